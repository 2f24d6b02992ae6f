"""Body compartments, sides and nodal regions: the geography INRGSS reasons with."""

from __future__ import annotations

from enum import Enum


class Compartment(Enum):
    """The four body compartments of INRGSS L1 ("confined to one body compartment")."""

    NECK = "neck"
    CHEST = "chest"
    ABDOMEN = "abdomen"
    PELVIS = "pelvis"


class Laterality(Enum):
    LEFT = "left"
    RIGHT = "right"
    MIDLINE = "midline"
    BILATERAL = "bilateral"
    UNKNOWN = "unknown"


def contralateral(a: Laterality, b: Laterality) -> bool | None:
    """True when one side is left and the other right; None when either side is unknown.

    Midline and bilateral tumours have no opposite side: INRGSS does not use the midline
    (Monclair 2009; INRG Data Commons staging page).
    """
    if Laterality.UNKNOWN in (a, b):
        return None
    return {a, b} == {Laterality.LEFT, Laterality.RIGHT}


class NodalRegion(Enum):
    """Where an involved lymph node lies, as far as staging needs to know."""

    CERVICAL = "cervical"
    MEDIASTINAL = "mediastinal"
    LOWER_MEDIASTINAL = "lower-mediastinal"
    ABDOMINAL = "abdominal"
    PELVIC = "pelvic"
    INGUINAL = "inguinal"
    AXILLARY = "axillary"
    OTHER = "other"

    @property
    def compartment(self) -> Compartment | None:
        """The body cavity the node lies in; None for nodes outside the four compartments."""
        return _NODAL_COMPARTMENT.get(self)


_NODAL_COMPARTMENT = {
    NodalRegion.CERVICAL: Compartment.NECK,
    NodalRegion.MEDIASTINAL: Compartment.CHEST,
    NodalRegion.LOWER_MEDIASTINAL: Compartment.CHEST,
    NodalRegion.ABDOMINAL: Compartment.ABDOMEN,
    NodalRegion.PELVIC: Compartment.PELVIS,
}
