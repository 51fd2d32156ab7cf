"""流失 — churn: alerts when a customer deletes a staff account, the churn list, and transfers
(在职/离职继承) with their status poll. The rules live in `customers.services.churn` and
`customers.services.transfers`; this package holds the web, API and background entry points."""
