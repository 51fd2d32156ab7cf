"""The fans' complaint page joins the phones' signed links: `mobile.services.fan_link_path(
workspace, "complaint", customer_id)` then leads to it. The phones app keeps its pages in a
table; complaints sits above it, so it adds its own entry when it loads."""

from __future__ import annotations

from siyu.mobile import services as mobile

mobile.FAN_PAGES.setdefault("complaint", "complaints:fan_complaint")
