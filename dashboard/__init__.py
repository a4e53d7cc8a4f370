"""The provincial supervisors' Plotly Dash dashboard (coverage and performance).

Empty until the dashboard issue. It reads through ``citylead`` query functions and imports
nothing from ``provisioning``.
"""
