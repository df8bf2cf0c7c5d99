"""Hazard delivery: the transactional outbox, the dispatcher and its channels, and escalation.

Kept import-free: `service.config.site` imports `service.delivery.config`, so nothing heavy may load here.
"""
