"""Provisioning settings (CONTRACT section 5), read from the run's validated Settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestration.lib.settings import Settings, SettingsError

MODES = ("off", "plan", "apply")
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
        env = settings.extra
        url = settings.sources.get("LMS_SCIM_URL")
        token = settings.sources.get("LMS_SCIM_TOKEN")
        raw_mode = (env.get("BRIDGE_LMS_PROVISIONING") or "").strip().lower()
        mode = raw_mode or ("plan" if url else "off")
        if mode not in MODES:
            raise SettingsError(f"BRIDGE_LMS_PROVISIONING must be one of off, plan, apply; got {raw_mode!r}")
        if mode != "off" and not url:
            raise SettingsError(f"BRIDGE_LMS_PROVISIONING={mode} needs LMS_SCIM_URL")
        if mode != "off" and not token:
            raise SettingsError("LMS_SCIM_TOKEN is not set (LMS_SCIM_URL is)")
        return cls(mode=mode, url=url, token=token, scope=parse_scope(env.get("BRIDGE_PROVISIONING_SCOPE", "")),
                   max_deactivations=_number(env, "BRIDGE_PROVISIONING_MAX_DEACTIVATIONS", 25, int),
                   max_change_rate=_number(env, "BRIDGE_PROVISIONING_MAX_CHANGE_RATE", 0.10, float, upper=1.0),
                   workers=_number(env, "BRIDGE_PROVISIONING_WORKERS", 4, int, lower=1))


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


def _number(env, name: str, default, kind, *, lower: float = 0, upper: float | None = None):
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a {'whole ' if kind is int else ''}number, got {raw!r}") from None
    if value < lower or (upper is not None and value > upper):
        raise SettingsError(f"{name} must be between {lower} and {upper if upper is not None else 'any'}, "
                            f"got {raw}")
    return value
