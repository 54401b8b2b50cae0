#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Rewrite the supported-kernel table in README between the markers
# "<!-- matrix-table begin -->" and "<!-- matrix-table end -->" from the last
# matrix run ($NVGRACE_CACHE/results/matrix.tsv).
#
#   support-table.sh [README]       default: the repository's README

set -euo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

readme=${1:-$NVGRACE_TOP/README}
tsv=$NVGRACE_CACHE/results/matrix.tsv
[ -r "$tsv" ] || die "no matrix results at $tsv: run tests/matrix/matrix.sh first"

table=$(mktemp)
trap 'rm -f "$table"' EXIT
{
	echo "Last matrix run: $(date -u -r "$tsv" '+%Y-%m-%d') (\`tests/matrix/matrix.sh --strict\`: W=1, sparse, zero warnings in our files)."
	echo
	echo "| series | kernel (amd64 / arm64) | compiler | amd64 | arm64 |"
	echo "|---|---|---|---|---|"
	awk -F'\t' 'NR > 1 {
		key = $1
		if (!(key in seen)) { order[++n] = key; seen[key] = 1 }
		rel[key, $2] = $3; tc[key] = $4; res[key, $2] = $5
	}
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]
			printf "| %s | %s / %s | %s | %s | %s |\n", k, rel[k, "amd64"],
				rel[k, "arm64"], tc[k], res[k, "amd64"], res[k, "arm64"]
		}
	}' "$tsv"
} >"$table"

awk -v tablefile="$table" '
	/<!-- matrix-table begin -->/ {
		print
		while ((getline line < tablefile) > 0) print line
		skip = 1
		next
	}
	/<!-- matrix-table end -->/ { skip = 0 }
	!skip { print }
' "$readme" >"$readme.tmp"
mv "$readme.tmp" "$readme"
