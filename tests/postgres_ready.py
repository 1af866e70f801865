"""Exit 0 when the PostgreSQL server named by the first argument answers within 5 seconds."""

import asyncio
import sys

import asyncpg


async def ready(dsn: str) -> bool:
    try:
        connection = await asyncpg.connect(dsn, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(ready(sys.argv[1])) else 1)
