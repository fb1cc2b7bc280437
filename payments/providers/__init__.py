"""Slip-verification providers behind one interface; `get_provider(settings)` picks the configured one."""
from __future__ import annotations

from payments.providers.base import BANGKOK, NoProvider, ProviderUnavailable, SlipProvider, Verification


def get_provider(settings, **options) -> SlipProvider:
    """The provider SLIP_PROVIDER names. ``options`` (client=, sleep=) are for tests."""
    name = settings.slip_provider
    if name == "none":
        return NoProvider()
    if name == "simulator":
        from payments.providers.simulator import SimulatorProvider as provider_class
    elif name == "openslipverify":
        from payments.providers.openslipverify import OpenSlipVerifyProvider as provider_class
    elif name == "slipok":
        from payments.providers.slipok import SlipOKProvider as provider_class
    elif name == "easyslip":
        from payments.providers.easyslip import EasySlipProvider as provider_class
    else:  # settings validation makes this unreachable; keep the message clear anyway
        raise ValueError(f"unknown SLIP_PROVIDER {name!r}")
    return provider_class(settings, **options)


__all__ = ["get_provider", "SlipProvider", "Verification", "ProviderUnavailable", "NoProvider", "BANGKOK"]
