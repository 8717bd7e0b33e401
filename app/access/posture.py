"""What production refuses: rules nobody can satisfy, and writes nobody restricted."""

from __future__ import annotations

from app.config.spec import ResourcesSpec

__all__ = ["WRITES", "production_problems"]

WRITES = ("post", "put", "patch", "delete")


def production_problems(spec: ResourcesSpec, authentication: bool) -> list[str]:
    """One line per problem, naming the operation and how to declare it: a rule without
    any authentication configured, and an enabled write without a rule or ``public``."""
    problems: list[str] = []
    for resource in spec.resources:
        for operation in resource.operations:
            rule = resource.security.rule(operation)
            where = f"resources.{resource.name}.security.operations.{operation}"
            if rule.expression is not None and not authentication:
                problems.append(
                    f"{where} has a rule but no authentication is configured; set AUTH_JWT_KEY "
                    "(with AUTH_JWT_ALG) or AUTH_JWKS_URL"
                )
            elif rule.expression is None and not rule.public and operation in WRITES:
                problems.append(
                    f"{where}: '{operation}' has no security rule; give it one, for example "
                    f"\"is_granted('admin')\", or declare it open with 'public'"
                )
    return problems
