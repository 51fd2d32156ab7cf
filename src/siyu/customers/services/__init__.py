"""客户 services: the customer record and its follow relations (跟进关系) kept from WeCom's contact
events, the timeline, and the minimal console listing.

Every write here may run more than once for the same WeCom event (the bus is at-least-once, and
both the customers and the channels subscribers record the same add), and events may arrive out
of order. So each change is a conditional UPDATE or an insert guarded by a unique constraint, and
the staff account's counters move only when a row really changed, in the same transaction.

Roles: `Module.CUSTOMERS` — customer ops, ops lead and admin edit; most roles view.

The package's public face: the logic lives in its modules."""

from __future__ import annotations

from siyu.customers.services.common import (  # noqa: F401 - re-exported
    CHANGED_BATCH,
    DETAIL_MAX_CHARS,
    PHONE_ROLES,
    TimelineNote,
    add_timeline,
    add_timelines,
    customers_changed,
    has_timeline,
    may_see_phone,
    shown_phone,
)
from siyu.customers.services.follows import (  # noqa: F401 - re-exported
    NewAdd,
    mark_engaged,
    record_add,
    record_adds,
    record_group_change,
    record_loss,
)
from siyu.customers.services.listing import (  # noqa: F401 - re-exported
    PAGE_SIZE,
    CustomerCount,
    CustomerFilters,
    CustomerListPage,
    count_customers,
    customers_query,
    list_customers,
    search_customers,
)
from siyu.customers.services.movement import DayMovement, daily_movement  # noqa: F401 - re-exported
from siyu.customers.services.profile import (  # noqa: F401 - re-exported
    CustomerProfile,
    customer_profile,
    ensure_profile,
)
from siyu.customers.services.scope import Scope, scope_of, scoped, visible_ids  # noqa: F401 - re-exported
