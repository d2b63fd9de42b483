#!/bin/bash
# Make realistic benchmark data: a plain pg_dump-like text of about SIZE MB
# (default 200), half of it each of
#   - pgbench_accounts: sequential ids, mostly-zero balances and an
#     84-space filler (compresses ~35x with gzip -6; flatters any codec);
#   - orders: timestamps, numerics, e-mail addresses and SHA-256 hex
#     hashes (compresses ~2x; gzip -6 is slow on it).
# Deterministic: the same SIZE gives the same bytes.
#
#   tests/bench/mkdata.sh [SIZE_MB] > /tmp/dump.sql
#   tests/bench/mkdata.sh 200 /tmp/dump.sql     (also writes each half)
set -euo pipefail

size_mb=${1:-200}
out=${2:-}

awk_bin=$(command -v mawk || command -v awk)

# One table per call: TABLE BYTES.
gen() {
	"$awk_bin" -v table="$1" -v bytes="$2" '
	function hex32() { return sprintf("%08x", int(rand() * 4294967296)) }
	function pad2(n) { return n < 10 ? "0" n : n }
	BEGIN {
		srand(table == "accounts" ? 42 : 4242)
		ORS = "\n"
		split("james mary robert patricia john jennifer michael linda " \
		      "david elizabeth william barbara richard susan joseph " \
		      "jessica thomas sarah charles karen christopher lisa " \
		      "daniel nancy matthew betty anthony margaret mark sandra",
		      first, " ")
		split("smith johnson williams brown jones garcia miller davis " \
		      "rodriguez martinez hernandez lopez gonzalez wilson " \
		      "anderson thomas taylor moore jackson martin lee perez " \
		      "thompson white harris sanchez clark ramirez lewis",
		      last, " ")
		split("gmail.com yahoo.com outlook.com example.org " \
		      "mail.example.net proton.me fastmail.com company.co.uk",
		      dom, " ")
		states[1] = "new"; states[2] = "paid"; states[3] = "shipped"
		states[4] = "delivered"; states[5] = "cancelled"
		filler = sprintf("%84s", "")
		n = 0
		if (table == "accounts") {
			print "--\n-- Data for Name: pgbench_accounts; Type: TABLE DATA; Schema: public; Owner: postgres\n--\n"
			print "COPY public.pgbench_accounts (aid, bid, abalance, filler) FROM stdin;"
			aid = 0
			while (n < bytes) {
				aid++
				bal = rand() < 0.01 ? int(rand() * 20000) - 10000 : 0
				line = aid "\t" int((aid - 1) / 100000) + 1 "\t" bal "\t" filler
				print line
				n += length(line) + 1
			}
		} else {
			print "--\n-- Data for Name: orders; Type: TABLE DATA; Schema: public; Owner: postgres\n--\n"
			print "COPY public.orders (id, customer_email, created_at, amount, status, payment_sha256) FROM stdin;"
			id = 1000000; t = 1672531200
			while (n < bytes) {
				id += 1 + int(rand() * 3)
				t += int(rand() * 400)
				f = first[1 + int(rand() * 30)]
				l = last[1 + int(rand() * 30)]
				mail = (rand() < 0.5 ? f "." l int(rand() * 100) : substr(f, 1, 1) l int(rand() * 10000)) "@" dom[1 + int(rand() * 8)]
				# date from epoch seconds, by hand (portable awk)
				d = int(t / 86400); s = t % 86400
				y = 2023; doy = d - 19358
				while (doy >= 365) { doy -= 365; y++ }
				m = 1 + int(doy / 31); if (m > 12) m = 12
				dd = 1 + doy % 28
				ts = y "-" pad2(m) "-" pad2(dd) " " pad2(int(s / 3600)) ":" pad2(int(s / 60) % 60) ":" pad2(s % 60) "." sprintf("%06d", int(rand() * 1000000)) "+00"
				amount = sprintf("%.2f", rand() * rand() * 50000)
				h = hex32() hex32() hex32() hex32() hex32() hex32() hex32() hex32()
				line = id "\t" mail "\t" ts "\t" amount "\t" states[1 + int(rand() * 5)] "\t" h
				print line
				n += length(line) + 1
			}
		}
		print "\\.\n\n"
	}'
}

half=$((size_mb * 1000000 / 2))

emit() {
	cat <<'EOF'
--
-- PostgreSQL database dump
--

-- Dumped from database version 15.8
-- Dumped by pg_dump version 15.8

SET statement_timeout = 0;
SET lock_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;

CREATE TABLE public.pgbench_accounts (
    aid integer NOT NULL,
    bid integer,
    abalance integer,
    filler character(84)
)
WITH (fillfactor='100');

CREATE TABLE public.orders (
    id bigint NOT NULL,
    customer_email text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    amount numeric(12,2) NOT NULL,
    status text NOT NULL,
    payment_sha256 text NOT NULL
);

EOF
	gen accounts "$half"
	gen orders "$half"
	echo "--"
	echo "-- PostgreSQL database dump complete"
	echo "--"
}

if [ -z "$out" ]; then
	emit
else
	emit >"$out"
	gen accounts "$half" >"${out%.sql}.accounts.sql"
	gen orders "$half" >"${out%.sql}.orders.sql"
fi
