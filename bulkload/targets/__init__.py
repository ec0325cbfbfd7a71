"""One module per API. The engine finds targets here by name and knows nothing else about them."""

from .base import Target
from .economic import Economic
from .halopsa import HaloPSA
from .payorcrm import PayorCRM
from .visma_core import VismaCore

TARGETS: dict[str, type[Target]] = {t.name: t for t in (Economic, VismaCore, PayorCRM, HaloPSA)}
