"""``python -m anju_query``: serve the query API and run its projections."""

from anju_query.entrypoints.app import create_app
from anju_query.settings import QuerySettings
from eventkit.app import serve


def main() -> None:
    serve(create_app, QuerySettings)


if __name__ == "__main__":
    main()
