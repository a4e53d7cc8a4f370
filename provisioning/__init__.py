"""Onboarding (接入): the pipeline that takes a county from registered to live in seconds.

Empty until the onboarding issue: templates, manifests, identity provisioning and the dramatiq
actors that run them will live here. It may import ``citylead`` and ``tenants``, never the reverse.
"""
