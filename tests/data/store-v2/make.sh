#!/usr/bin/env bash
# Makes store-v2.sql: a store at schema version 2 (the last before Alembic
# shipped schema 3 and the revisions), written by the code of that day,
# commit 87a85d2, with rows in every table. tests/test_store_migrations.py
# upgrades it with today's code and compares every row.
#
#   bash tests/data/store-v2/make.sh   (from the repository root, with .venv made)
set -euo pipefail
repo=$(pwd)
commit=87a85d2
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; git -C "$repo" worktree remove --force "$work/code" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$repo" worktree add --detach "$work/code" "$commit" >/dev/null
mkdir -p "$work/site/_posts" "$work/feeds"
cp "$repo"/tests/data/feeds/rss20.xml "$repo"/tests/data/feeds/atom.xml "$work/feeds/"
port=$("$repo/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$work/feeds" && exec "$repo/.venv/bin/python" -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1) &
server=$!
ls "$repo"/examples/site/_posts | head -n 12 | while read -r f; do cp "$repo/examples/site/_posts/$f" "$work/site/_posts/"; done
cp "$repo/examples/subscribers.csv" "$work/subscribers.csv"
cat > "$work/schedule.yaml" <<YAML
site: {title: 金融资讯网, url: https://finews.withounder.com, language: zh-CN, timezone: Asia/Shanghai}
sources:
  - {name: posts, posts: site/_posts}
  - {name: upstream-rss, feed: "http://127.0.0.1:$port/rss20.xml", category: guoji, categories_from_feed: true, allow_private: true}
  - {name: upstream-atom, feed: "http://127.0.0.1:$port/atom.xml", category: keji, allow_private: true}
  - {name: upstream-gone, feed: "http://127.0.0.1:$port/missing.xml", category: keji, allow_private: true}
categories: {caijing: 财经, keji: 科技, guoji: 国际}
store: {url: "sqlite:///var/syndicate.db"}
feeds: {dir: out}
digests:
  - {name: daily, categories: all, window: since-last, from: "金融资讯网 <digest@finews.withounder.com>"}
  - {name: caijing, categories: [caijing], window: 7d, from: "金融资讯网 <digest@finews.withounder.com>"}
subscribers: {file: subscribers.csv}
jobs:
  collect: {every: 15m}
  build: {after: collect}
  daily: {digest: daily, cron: "0 8 * * *"}
YAML
sleep 0.5
run() { (cd "$work" && SYNDICATE_SECRET=fixture PYTHONPATH="$work/code" "$repo/.venv/bin/python" -m syndicate "$@"); }
run run --once || true  # upstream-gone fails: a partial run, recorded as such
run subscribers add new.reader@example.net --name 新读者 --categories caijing
run subscribers remove li.lei@example.org
run digest send --all
run status >/dev/null
"$repo/.venv/bin/python" - "$work/var/syndicate.db" "$repo/tests/data/store-v2/store-v2.sql" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("2",)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.writelines(line + "\n" for line in db.iterdump())
PY
echo "wrote tests/data/store-v2/store-v2.sql"
