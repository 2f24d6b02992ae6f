"""The HTTP routes, one blueprint per group: discovery, services, feedback, health."""
