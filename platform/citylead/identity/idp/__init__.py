"""The embedded, Keycloak-compatible identity provider (one machine; production uses Keycloak).

:func:`create_idp_router` serves it under ``/idp``; :mod:`.directory` is the store the seed uses.
"""

from citylead.identity.idp.router import create_idp_router

__all__ = ["create_idp_router"]
