"""Whose budget a request spends, which budget, and how it is told to the client.

Budgets are per client: every authenticated identity has one for reads and a
stricter one for writes, and a route may have its own instead (settings
`rate_limit_reads`, `rate_limit_writes`, `rate_limit_routes`). A request that
carries no credential the server recognises spends its IP address's
`rate_limit_anonymous` budget, so guessing keys is limited too.

The state of a budget is told in the fields of draft-ietf-httpapi-ratelimit-headers-10
(the two-field form, unchanged since -09), on every response the limiter saw:

    RateLimit-Policy: "writes";q=300;w=60
    RateLimit: "writes";r=299;t=60

q is the quota, w the window in seconds, r what is left of it and t the seconds
until more is available. A refused request also carries Retry-After (RFC 9110).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from limits import RateLimitItem
from limits.util import WindowStats

from promoflow.config import Settings
from promoflow.kit.rates import WRITE_METHODS, parse_rate, split_route_key


@dataclass(frozen=True)
class Client:
    """Whose budget a request spends: `key` names it in the limiter's storage."""

    key: str
    authenticated: bool


@dataclass(frozen=True)
class RateRule:
    """One named budget: its name is the policy identifier the headers carry."""

    name: str
    item: RateLimitItem

    @property
    def window_seconds(self) -> int:
        return int(self.item.get_expiry())


class RatePolicy:
    """The budgets of settings, and which one a request spends."""

    def __init__(
        self,
        reads: RateLimitItem,
        writes: RateLimitItem,
        anonymous: RateLimitItem,
        routes: dict[tuple[str, str], RateLimitItem],
    ) -> None:
        self.reads = RateRule("reads", reads)
        self.writes = RateRule("writes", writes)
        self.anonymous = RateRule("anonymous", anonymous)
        self.routes = {
            (method, path): RateRule(f"{method} {path}", item)
            for (method, path), item in routes.items()
        }

    @classmethod
    def from_settings(cls, settings: Settings) -> RatePolicy:
        """The policy the settings describe (already validated by Settings)."""
        routes = {
            split_route_key(key): parse_rate(f"rate_limit_routes[{key!r}]", value)
            for key, value in settings.rate_limit_routes.items()
        }
        return cls(
            parse_rate("rate_limit_reads", settings.rate_limit_reads),
            parse_rate("rate_limit_writes", settings.rate_limit_writes),
            parse_rate("rate_limit_anonymous", settings.rate_limit_anonymous),
            routes,
        )

    def check_routes(self, documented: Iterable[tuple[str, str]]) -> None:
        """Raise ValueError naming a `rate_limit_routes` entry no route of the API answers."""
        known = set(documented)
        for method, path in self.routes:
            if (method, path) not in known:
                raise ValueError(
                    f"rate_limit_routes: no route answers {method} {path}; name a route as "
                    "/openapi.json documents it, e.g. 'POST /api/v1/promotions'"
                )

    def rule_for(self, client: Client, method: str, route: str) -> RateRule:
        """The budget this request spends."""
        if not client.authenticated:
            return self.anonymous
        override = self.routes.get((method, route))
        if override is not None:
            return override
        return self.writes if method in WRITE_METHODS else self.reads


def seconds_until(reset_time: float, now: float) -> int:
    """Whole seconds from `now` to `reset_time`, never negative."""
    return max(0, math.ceil(reset_time - now))


def rate_limit_headers(rule: RateRule, stats: WindowStats, now: float) -> dict[str, str]:
    """The RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10)."""
    name = rule.name.replace("\\", "\\\\").replace('"', '\\"')  # an sf-string
    reset = seconds_until(stats.reset_time, now)
    return {
        "RateLimit-Policy": f'"{name}";q={rule.item.amount};w={rule.window_seconds}',
        "RateLimit": f'"{name}";r={max(0, stats.remaining)};t={reset}',
    }
