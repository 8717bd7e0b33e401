from tests.interop.clients import node_subscriber

__all__ = ["node_subscriber"]
