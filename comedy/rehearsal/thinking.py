"""How long the rehearsal comedian thinks before it speaks: the live API's time from
`response.create` to the first output item, modelled, so a fresh session's first sound in rehearsal
is what a visitor waits live.

The figures are estimates for a short spoken answer from a nearby region, to be replaced by
measured ones: `python -m bench.think` with a key measures the real think time (this
machine reaches no API). Reasoning models think for longer as their effort rises; a model with no
reasoning starts speaking after about the same time as a reasoning model at `minimal`.
"""

from __future__ import annotations

import random

from comedy.realtime import models

# Median seconds to the first output item, by reasoning effort (None: a model with no reasoning).
THINK_SECONDS: dict[str | None, float] = {
    None: 0.45,
    "minimal": 0.5,
    "low": 0.75,
    "medium": 1.4,
    "high": 2.6,
    "xhigh": 4.5,
}
SPREAD = 0.25  # log-normal sigma: one answer in twenty waits about 1.5x the median


def think_seconds(model: str, session: dict, rng: random.Random) -> float:
    """One answer's think time on `model` with the session's reasoning effort."""
    effort = None
    if models.reasons(model):
        reasoning = session.get("reasoning") or {}
        effort = reasoning.get("effort") if isinstance(reasoning, dict) else None
        effort = effort if effort in models.REASONING_EFFORTS else models.DEFAULT_REASONING_EFFORT
    return THINK_SECONDS[effort] * rng.lognormvariate(0.0, SPREAD)
