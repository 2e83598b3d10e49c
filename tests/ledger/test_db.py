"""The schema comes from Alembic migrations, and they describe exactly the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from ledger.db import make_engine, migrate


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_produce_exactly_the_models_schema(backend, tmp_path, request):
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)  # a second run on every start changes nothing
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == []
