"""Provisioning settings (CONTRACT section 5), read from the run's validated Settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestration.lib.settings import Settings, SettingsError

SCOPE_KEYS = ("division", "department")


@dataclass(frozen=True)
class ProvisioningConfig:
    mode: str                                   # off | plan | apply
    url: str | None
    token: str | None = field(default=None, repr=False)
    scope: tuple[tuple[str, frozenset[str]], ...] = ()   # (column, allowed values), all must hold
    max_deactivations: int = 25
    max_change_rate: float = 0.10
    workers: int = 4                            # concurrent writes: the LMS, not the bridge, sets the pace
    page_size: int = 500

    @classmethod
    def from_settings(cls, settings: Settings) -> ProvisioningConfig:
        """The values `Settings.from_env` already parsed and checked in its one pass (ranges, the
        mode's default, a URL without a token): nothing is parsed a second time here."""
        url = settings.sources.get("LMS_SCIM_URL")
        return cls(mode=settings.get("BRIDGE_LMS_PROVISIONING") or ("plan" if url else "off"), url=url,
                   token=settings.sources.get("LMS_SCIM_TOKEN"),
                   scope=settings.get("BRIDGE_PROVISIONING_SCOPE") or (),
                   max_deactivations=settings.get("BRIDGE_PROVISIONING_MAX_DEACTIVATIONS"),
                   max_change_rate=settings.get("BRIDGE_PROVISIONING_MAX_CHANGE_RATE"),
                   workers=settings.get("BRIDGE_PROVISIONING_WORKERS"))


def parse_scope(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """`division=Technology|Operations; department=Platform`: filters joined by `;` must all
    hold; `|` separates the values one filter accepts. Empty: everyone."""
    out: dict[str, set[str]] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        key, sep, values = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in SCOPE_KEYS or not values.strip():
            raise SettingsError("BRIDGE_PROVISIONING_SCOPE must be filters like "
                                f"'division=Technology|Operations; department=Platform', got {part!r}")
        out.setdefault(key, set()).update(v.strip() for v in values.split("|") if v.strip())
    return tuple((k, frozenset(v)) for k, v in sorted(out.items()))

