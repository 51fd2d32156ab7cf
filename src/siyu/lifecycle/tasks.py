"""Background entry points of the lifecycle (生命周期): a brand's full recompute (after a policy
change or the console's "recompute now") and the nightly recompute of every brand, which moves
customers whom time alone changes (engaged → new → dormant). A full recompute runs in slices,
each queueing the next, so a brand of 1M customers never holds one worker for long. Idempotent:
a second run changes nothing the first did not."""

from __future__ import annotations

from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.customers.models import Customer
from siyu.lifecycle.services.recompute import recompute_slice


@task()
def recompute_brand(workspace_id: int, after_id: int = 0) -> dict[str, int]:
    """One slice of a brand's full recompute; queues the next slice until the brand is done."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        sliced = recompute_slice(workspace, after_id)
    if sliced.next_after_id is not None:
        recompute_brand.enqueue(workspace_id, sliced.next_after_id)
    result = sliced.result
    return {"customers": result.customers, "changed": result.changed, "next_after_id": sliced.next_after_id or 0,
            "angels_added": result.angels_added, "angels_removed": result.angels_removed}


@task()
def recompute_nightly() -> int:
    """Every night: a full recompute of every brand with customers, one slice chain per brand
    (`core.fanout`; a brand whose recompute is already under way is left to finish it)."""
    return for_each_brand(recompute_brand, brands_of(Customer.unscoped.all()))


register_job("lifecycle.recompute_nightly", "20 3 * * *", recompute_nightly)
