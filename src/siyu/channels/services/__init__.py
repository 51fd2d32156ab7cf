"""渠道活码 services, split by sub-domain: codes, routing, welcome, welfare, analytics, qr."""
