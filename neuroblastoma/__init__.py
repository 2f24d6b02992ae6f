"""Neuroblastoma staging (INRGSS) and pretreatment risk (INRG 2009, COG 2021): pure rules, no I/O.

Entry point: ``neuroblastoma.classification.classify(case)``, which runs every staging system and risk
schema registered there (``neuroblastoma.registry``); each is also callable alone
(``neuroblastoma.staging.assign_stage``, ``neuroblastoma.inrg2009.classify_inrg2009``,
``neuroblastoma.cog2021.classify_cog2021``).
"""
