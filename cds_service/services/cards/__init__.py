"""CDS Hooks cards, valid by construction: no empty members, summaries under 140 characters, uuids."""
