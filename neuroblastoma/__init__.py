"""Neuroblastoma staging (INRGSS) and pretreatment risk (INRG 2009, COG 2021): pure rules, no I/O.

Entry points: ``neuroblastoma.classification.classify(case)``, ``neuroblastoma.staging.assign_stage``,
``neuroblastoma.inrg2009.classify_inrg2009`` and ``neuroblastoma.cog2021.classify_cog2021``.
"""
