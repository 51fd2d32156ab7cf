"""裂变 services: 任务宝 campaigns, per-participant codes, invites and their guards, rewards,
progress and the messages that tell it. Other apps import only these names."""

from siyu.fission.services.campaigns import (
    CampaignInput,
    NotEligible,
    TierInput,
    end,
    end_due,
    enrol,
    is_running,
    join,
    launch,
    save_campaign,
    voice_findings,
)
from siyu.fission.services.codes import (
    CodeUnavailable,
    decode_state,
    encode_state,
    ensure_code,
    participant_for_state,
    recycle_codes,
)
from siyu.fission.services.common import (
    MODULE,
    can_approve,
    can_edit,
    require_approve,
    require_edit,
    require_view,
)
from siyu.fission.services.guards import blacklisted, is_zombie, zombie_signals
from siyu.fission.services.invites import (
    AddSeen,
    Settled,
    record_add,
    release_held,
    revoke_for_relation,
    settle_due,
)
from siyu.fission.services.notify import notify_joined, notify_progress
from siyu.fission.services.progress import Progress, Rank, leaderboard, masked, progress_of
from siyu.fission.services.rewards import (
    claim,
    claim_reached,
    decide,
    fraud_signals,
    fulfil,
    retry_unfulfilled,
    review_queue,
)

__all__ = [
    "MODULE", "AddSeen", "CampaignInput", "CodeUnavailable", "NotEligible", "Progress", "Rank", "Settled",
    "TierInput", "blacklisted", "can_approve", "can_edit", "claim", "claim_reached", "decide", "decode_state",
    "encode_state", "end", "end_due", "enrol", "ensure_code", "fraud_signals", "fulfil", "is_running",
    "is_zombie", "join", "launch", "leaderboard", "masked", "notify_joined", "notify_progress",
    "participant_for_state", "progress_of", "record_add", "recycle_codes", "release_held", "require_approve",
    "require_edit", "require_view", "retry_unfulfilled", "review_queue", "revoke_for_relation", "save_campaign",
    "settle_due", "voice_findings", "zombie_signals",
]
