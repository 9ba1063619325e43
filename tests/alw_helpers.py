"""Small helpers shared by the tests (a module, not a conftest, so it can be imported)."""


def oracle(session, y):
    """Label the whole current batch with the truth: ``{pool index: true code}``."""
    return {int(i): int(y[i]) for i in session.query()}
