"""The Models page: the registry, each version's backtest against its comparators, and
post-event accuracy, for every role (models.read), as the API and the CLI report them."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest

from governance.governance_support import (
    DATA_HASH,
    backtest_document,
    seeded_retailer,
    unique_tag,
)
from web.conftest import Console


def _comparators(wape_promo: float) -> dict[str, object]:
    document = backtest_document(wape_promo)
    document["models"][0].update(wape_non_promo=0.21, coverage_80=0.78)  # type: ignore[index]
    return document


@pytest.fixture
def registered(seeded: object) -> dict[str, str]:
    """A champion and a candidate of a kind of our own; the champion forecast a promotion
    whose post-event accuracy is recorded (forecast 15 units per line, 12 sold)."""
    from promoflow.forecasting import registry
    from promoflow.forecasting.post_event_accuracy import record_post_event_accuracy
    from promoflow.kit.db import transaction
    from promoflow.promotions.models import ForecastLine
    from promoflow.runtime import get_runtime

    kind = f"web{unique_tag().lower()}"
    champion, candidate = f"{kind}-1", f"{kind}-2"
    with transaction(get_runtime().sessions) as session:
        for version, figure in ((champion, 0.40), (candidate, 0.35)):
            registry.register_candidate(
                session, version=version, backtest=_comparators(figure), data_hash=DATA_HASH,
                training_start="2024-07-07", training_end="2026-06-28", features=["lag_1"],
                kind=kind, notes="console test",
            )  # fmt: skip
        registry.promote(
            session, champion, approved_by="pat", role="supply_chain_planner", reason="first one"
        )
        retailer = seeded_retailer(session, unique_tag())
        promotion = retailer.promotion
        for store in retailer.stores:
            session.add(
                ForecastLine(
                    promotion_id=promotion.id, revision=promotion.revision,
                    item_id=retailer.items[0], location_id=store, baseline_units=10.0,
                    promoted_units=15.0, p10=5.0, p50=15.0, p80=20.0, p90=25.0,
                    model_version=champion, inputs_hash="0" * 64,
                )
            )  # fmt: skip
        session.flush()
        actuals = pl.DataFrame(
            {"item_id": [retailer.items[0]] * 2, "location_id": retailer.stores,
             "actual_units": [12.0, 12.0]}
        )  # fmt: skip
        record_post_event_accuracy(session, promotion.id, promotion.revision, actuals)
    return {"kind": kind, "champion": champion, "candidate": candidate}


def test_every_role_sees_the_registry_with_status_window_and_hash(
    console_for: Callable[[str], Console], registered: dict[str, str]
) -> None:
    for role in ("merchandiser", "auditor"):
        page = console_for(role).get(f"/models?kind={registered['kind']}")
        assert page.status_code == 200, page.text  # type: ignore[attr-defined]
        text = page.text  # type: ignore[attr-defined]
        champion_at = text.index(f'href="/models/{registered["champion"]}"')
        candidate_at = text.index(f'href="/models/{registered["candidate"]}"')
        assert candidate_at < champion_at  # most recently registered first
        assert ">champion</span>" in text and ">candidate</span>" in text
        assert "2024-07-07 to 2026-06-28" in text
        assert DATA_HASH[:12] in text
        assert "seasonal_naive (0.610)" in text  # the best comparator on wape_promo


def test_the_status_filter_lives_in_the_url(
    console_for: Callable[[str], Console], registered: dict[str, str]
) -> None:
    console = console_for("finance_approver")
    page = console.get(f"/models?kind={registered['kind']}&status=champion")
    text = page.text  # type: ignore[attr-defined]
    assert registered["champion"] in text and registered["candidate"] not in text
    assert '<option value="champion" selected>' in text


def test_a_version_shows_its_backtest_against_the_comparators_and_live_accuracy(
    console_for: Callable[[str], Console], registered: dict[str, str]
) -> None:
    page = console_for("category_manager").get(f"/models/{registered['champion']}")
    assert page.status_code == 200, page.text  # type: ignore[attr-defined]
    text = page.text  # type: ignore[attr-defined]
    assert DATA_HASH in text and "cutoff 2026-06-28" in text and "horizon 8" in text
    for label in ("WAPE promo", "WAPE non-promo", "Bias", "80 % coverage"):
        assert f'<th scope="col" class="num">{label}</th>' in text
    # This version's row first, then the comparator, each with its own figures.
    own, naive = text.index("this version"), text.index("seasonal_naive")
    assert own < naive
    assert '<td class="num">0.400</td>' in text[own:naive]  # wape_promo
    assert '<td class="num">0.210</td>' in text[own:naive]  # wape_non_promo
    assert '<td class="num">0.610</td>' in text[naive:]
    # Post-event: 2 lines, 30 forecast vs 24 sold: WAPE 6/24 = 0.25, bias +0.25.
    assert '<td class="num">0.250</td>' in text and '<td class="num">+0.250</td>' in text
    assert "approved by pat (supply chain planner)" in text and "first one" in text


def test_a_candidate_without_post_event_accuracy_says_so(
    console_for: Callable[[str], Console], registered: dict[str, str]
) -> None:
    text = console_for("auditor").get(f"/models/{registered['candidate']}").text  # type: ignore[attr-defined]
    assert "No post-event accuracy recorded for this version yet" in text


def test_an_unknown_version_and_a_bad_filter_are_named(
    console_for: Callable[[str], Console], registered: dict[str, str]
) -> None:
    console = console_for("auditor")
    missing = console.get("/models/no-such-model")
    assert missing.status_code == 404  # type: ignore[attr-defined]
    assert "no-such-model is not registered" in missing.text  # type: ignore[attr-defined]
    bad = console.get("/models?status=best")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "status=&#39;best&#39;" in bad.text  # type: ignore[attr-defined]
    assert "must be one of candidate, champion, retired" in bad.text  # type: ignore[attr-defined]
