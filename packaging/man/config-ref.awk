# The key reference of offsite.ini(5), in roff, from the Markdown table
# that `offsite config --describe` prints:
#
#   offsite config --describe | awk -f packaging/man/config-ref.awk
#
# offsite.ini.5 holds its output between the "begin config reference" and
# "end config reference" comments; tests/cli/man.sh keeps them in step.

# Text for roff: backslashes escaped, `code` in bold.
function roff(s,    out, i, parts, n) {
	gsub(/\\/, "\\e", s)
	n = split(s, parts, "`")
	out = parts[1]
	for (i = 2; i <= n; i++)
		out = out (i % 2 == 0 ? "\\fB" : "\\fR") parts[i]
	if (n % 2 == 0)
		out = out "\\fR"
	return out
}

NR <= 2 { next }	# the header and the rule

{
	line = $0
	sub(/^\| /, "", line)
	sub(/ \|$/, "", line)
	n = split(line, cell, / \| /)
	if (n != 4) {
		print "config-ref.awk: line " NR ": expected 4 cells, got " n > "/dev/stderr"
		exit 1
	}
	section = cell[1]; gsub(/`/, "", section)
	key = cell[2]; gsub(/`/, "", key)
	def = cell[3]
	if (section != last) {
		print ".SS " section
		last = section
	}
	print ".TP"
	if (def == "")
		print "\\fB" key "\\fR"
	else if (def == "(required)")
		print "\\fB" key "\\fR (required)"
	else
		print "\\fB" key "\\fR (default: " roff(def) ")"
	desc = roff(cell[4])
	if (desc ~ /^[.']/)
		desc = "\\&" desc
	print desc
}
