"""Alerts between reports: the `watch` job checks a few cheap conditions every half hour, keeps
incidents, and tells people once when one opens, at most every N hours while it stays open, and
once when it resolves.

conditions/  one small module per condition: what is wrong now, as findings under stable keys
model.py     findings, check results and what a condition may look at (the watch context)
incidents.py findings -> incidents (pending, open, resolved), events and the deliveries they need
messages.py  an event or a digest as text, email (MIME), Slack, Teams and generic JSON
channels.py  sending one message: SMTP and webhooks, each outcome sent, retry, failed or unknown
deliver.py   the delivery queue: idempotency keys stored before sending, quiet hours, digests
api.py       watch / list / ack / test: what the CLI and the `watch` job call
cli.py       `seo alerts list|test|ack`
"""
