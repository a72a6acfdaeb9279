# What a bash script runs, read without running it; for tests/commands.sh.
# Prints one line per finding:
#   run LINE WORD    WORD is in command position at LINE
#   need LINE WORD   WORD is a command the script passes to need()
#   func NAME        the script defines function NAME
#   source WORD      the script sources WORD (. or source)
#
# A small lexer, not a parser: it knows quotes, escapes, comments,
# $(...), `...`, $((...)), ${...}, ((...)), [[...]], here-documents,
# case patterns and redirections, which is what tells a command word from
# an argument in this project's scripts. It also reads the shell code
# inside strings: `sh -c STRING`, `eval STRING`, `trap STRING SIG`, a
# wg-quick hook line in a config ("PostUp = ip link ..."), and a
# here-document that starts with #! (a script the test writes). Each such
# piece of code is queued and lexed in turn, with the line it came from.
#
# A command run through a wrapper is found too: `ip netns exec NS CMD`,
# `env VAR=x CMD`, `timeout N CMD`, `exec CMD`, ... and the tests' own
# functions that take a command (WRAP below). A command named only in a
# variable ("$cc") is not seen: the entry scripts name those by hand.
# Every word it prints is filtered by commands.sh (builtins, functions).

BEGIN {
	# The project's functions that run their arguments as a command,
	# and how many arguments come first: `wait_for 10 test -S F`. A new
	# such function belongs here, or what it runs goes unseen.
	WRAP["wait_for"] = 1; WRAP["check"] = 1; WRAP["bg_start"] = 1
	WRAP["in_rv"] = 1; WRAP["step"] = 1; WRAP["refused_and_untouched"] = 3
	WRAP["run"] = 0; WRAP["passes"] = 0; WRAP["in_wg"] = 0
	WRAP["in_en"] = 0; WRAP["up_again"] = 0; WRAP["run_briefly"] = 0
	split("if then else elif while until do ! { time", kw, " ")
	for (k in kw) LEAD[kw[k]] = 1
	split("} fi done esac", kw, " ")
	for (k in kw) CLOSE[kw[k]] = 1
	nq = 0
}

{ text = text $0 "\n" }

END {
	queue(text, 1, "sh")
	for (qi = 1; qi <= nq; qi++) {
		if (QM[qi] == "sh")
			lex(QT[qi], QL[qi])
		else
			find_substitutions(QT[qi], QL[qi])
	}
}

function queue(code, line, mode) {
	nq++
	QT[nq] = code; QL[nq] = line; QM[nq] = mode
}

function newlines(s,   t) {
	t = s
	return gsub(/\n/, "", t)
}

# The ends of quoted and bracketed text; i is at the opening character,
# the result is the index of the closing one (or past the end).
function end_sq(s, i,   n) {
	n = index(substr(s, i + 1), "'")
	return n ? i + n : length(s) + 1
}

function end_dq(s, i,   c, n) {
	n = length(s)
	for (i++; i <= n; i++) {
		c = substr(s, i, 1)
		if (c == "\\") i++
		else if (c == "\"") return i
		else if (c == "`") i = end_bt(s, i)
		else if (c == "$" && substr(s, i + 1, 1) == "(") i = end_paren(s, i + 1)
		else if (c == "$" && substr(s, i + 1, 1) == "{") i = end_brace(s, i + 1)
	}
	return i
}

function end_bt(s, i,   c, n) {
	n = length(s)
	for (i++; i <= n; i++) {
		c = substr(s, i, 1)
		if (c == "\\") i++
		else if (c == "`") return i
	}
	return i
}

# A comment inside $(...) ends the line, and may hold a lone quote.
function end_paren(s, i,   c, n, depth, prev) {
	n = length(s)
	depth = 0
	for (; i <= n; i++) {
		c = substr(s, i, 1)
		prev = i > 1 ? substr(s, i - 1, 1) : "\n"
		if (c == "\\") i++
		else if (c == "'") i = end_sq(s, i)
		else if (c == "\"") i = end_dq(s, i)
		else if (c == "`") i = end_bt(s, i)
		else if (c == "#" && prev ~ /[ \t\n;(]/) {
			while (i <= n && substr(s, i, 1) != "\n") i++
		} else if (c == "(") depth++
		else if (c == ")" && --depth == 0) return i
	}
	return i
}

function end_brace(s, i,   c, n, depth) {
	n = length(s)
	depth = 0
	for (; i <= n; i++) {
		c = substr(s, i, 1)
		if (c == "\\") i++
		else if (c == "'") i = end_sq(s, i)
		else if (c == "\"") i = end_dq(s, i)
		else if (c == "{") depth++
		else if (c == "}" && --depth == 0) return i
	}
	return i
}

# [[ ... ]]: its words are operands, not commands.
function end_test(s, i,   c, n) {
	n = length(s)
	for (i += 2; i <= n; i++) {
		c = substr(s, i, 1)
		if (c == "\\") i++
		else if (c == "'") i = end_sq(s, i)
		else if (c == "\"") i = end_dq(s, i)
		else if (substr(s, i - 1, 4) ~ /^[ \t]\]\]([ \t\n;&|)]|$)/)
			return i + 1
	}
	return i
}

# Text in which only $(...) and `...` run: a double-quoted string, a
# here-document that is not a script, the words of an array (quoting: 1
# when single quotes quote there).
function find_substitutions(s, line, quoting,   i, n, c, j) {
	n = length(s)
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (c == "\\") i++
		else if (c == "'" && quoting) i = end_sq(s, i)
		else if (c == "`") {
			j = end_bt(s, i)
			queue(substr(s, i + 1, j - i - 1), line + newlines(substr(s, 1, i)), "sh")
			i = j
		} else if (c == "$" && substr(s, i + 1, 2) == "((") {
			i = end_paren(s, i + 1)
		} else if (c == "$" && substr(s, i + 1, 1) == "(") {
			j = end_paren(s, i + 1)
			queue(substr(s, i + 2, j - i - 2), line + newlines(substr(s, 1, i)), "sh")
			i = j
		}
	}
}

# What a double-quoted string's text becomes.
function dq_value(s,   out, i, n, c, d) {
	n = length(s)
	out = ""
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		d = substr(s, i + 1, 1)
		if (c == "\\" && d == "\n") i++
		else if (c == "\\" && (d == "\\" || d == "\"" || d == "$" || d == "`")) {
			out = out d
			i++
		} else out = out c
	}
	return out
}

# An unquoted here-document's body is expanded like that too.
function heredoc_value(s,   out, i, n, c, d) {
	n = length(s)
	out = ""
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		d = substr(s, i + 1, 1)
		if (c == "\\" && d == "\n") i++
		else if (c == "\\" && (d == "\\" || d == "$" || d == "`")) {
			out = out d
			i++
		} else out = out c
	}
	return out
}

# ---------------------------------------------------------------------------
# The lexer: words into W[1..nw], commands ended at ; & | newline ( ).

function end_word() {
	if (!inword) return
	inword = 0
	if (skip_target) {	# the file of a redirection
		skip_target = 0
		return
	}
	if (pending_delim) {	# the delimiter of a here-document
		pending_delim = 0
		HD_DELIM[++nhd] = word
		HD_QUOTED[nhd] = word_quoted
		HD_STRIP[nhd] = hd_strip
		return
	}
	W[++nw] = word
	WL[nw] = word_line
	# Code in a string: a wg-quick hook line of a config.
	if (word ~ /^(Pre|Post)(Up|Down)[ \t]*=/) {
		sub(/^[A-Za-z]*[ \t]*=[ \t]*/, "", word)
		queue(word, word_line, "sh")
	}
	# case WORD in: patterns follow.
	if (nw == 3 && W[1] == "case" && W[3] == "in") {
		nw = 0
		case_depth++
		in_pattern = 1
	}
}

function add(s) {
	if (!inword) {
		word = ""
		word_quoted = 0
		word_line = line
	}
	word = word s
	inword = 1
}

function end_command(   k) {
	end_word()
	k = 1
	while (k <= nw && (W[k] in LEAD)) k++
	if (k <= nw && !(W[k] in CLOSE)) {
		if (W[k] == "function") print "func", W[k + 1]
		else if (W[k] != "for" && W[k] != "select") command(k)
	}
	nw = 0
}

function is_assignment(w) {
	return w ~ /^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=/
}

# W[k] is in command position: print it, and look inside wrappers.
function command(k,   w, j) {
	while (k <= nw && is_assignment(W[k])) k++
	if (k > nw) return
	w = W[k]
	# A system path is its command; any other path is the project's.
	if (w ~ /^\/(usr\/)?s?bin\/[^\/]+$/) sub(/.*\//, "", w)
	if (w ~ /^\$/ || w ~ /\//) return
	print "run", WL[k], w
	if (w == "." || w == "source") {
		if (k < nw) print "source", W[k + 1]
	} else if (w in WRAP) {
		command(k + 1 + WRAP[w])
	} else if (w == "need") {
		for (j = k + 1; j <= nw && W[j] != "--"; j++)
			if (W[j] !~ /^\$/) print "need", WL[j], W[j]
	} else if (w == "lib_init") {	# NAME TOOL...: the tools it needs
		for (j = k + 2; j <= nw; j++) print "run", WL[j], W[j]
	} else if (w == "ip") {
		if (W[k + 1] == "netns" && W[k + 2] == "exec") command(k + 4)
	} else if (w == "env") {
		for (j = k + 1; j <= nw && (W[j] ~ /^-/ || is_assignment(W[j])); j++)
			if (W[j] == "-u") j++
		command(j)
	} else if (w == "timeout") {
		for (j = k + 1; j <= nw && W[j] ~ /^-/; j++)
			if (W[j] == "-s" || W[j] == "-k") j++
		command(j + 1)
	} else if (w == "nsenter") {
		for (j = k + 1; j <= nw && W[j] ~ /^-/; j++)
			if (W[j] == "-t") j++
		command(j)
	} else if (w ~ /^(setpriv|unshare|sudo|exec|xargs)$/) {
		for (j = k + 1; j <= nw && W[j] ~ /^-/; j++) ;
		command(j)
	} else if (w == "command") {	# command -v NAME only looks
		if (W[k + 1] !~ /^-[vV]$/) command(k + 1)
	} else if (w == "eval" || (w == "trap" && W[k + 1] !~ /^-/)) {
		queue(W[k + 1], WL[k + 1], "sh")
	} else if (w == "sh" || w == "bash") {
		for (j = k + 1; j <= nw && W[j] ~ /^-/ && W[j] !~ /^-[a-z]*c[a-z]*$/; j++) ;
		if (j <= nw && W[j] ~ /^-[a-z]*c[a-z]*$/) {
			queue(W[j + 1], WL[j + 1], "sh")
			# sh -c 'CODE' NAME CMD...: CODE runs "$@" in this
			# project's uses.
			command(j + 3)
		}
	}
}

# Reads the pending here-documents' bodies: s from i on (after their
# line); returns the index past the last body.
function read_heredocs(s, i,   h, n, start, ln, body, delim, script) {
	n = length(s)
	for (h = 1; h <= nhd; h++) {
		start = line
		body = ""
		while (i <= n) {
			ln = substr(s, i, index(substr(s, i) "\n", "\n") - 1)
			i += length(ln) + 1
			line++
			if (HD_STRIP[h]) sub(/^\t+/, "", ln)
			if (ln == HD_DELIM[h]) break
			body = body ln "\n"
		}
		if (!HD_QUOTED[h]) body = heredoc_value(body)
		script = body ~ /^#!/
		if (script) queue(body, start, "sh")
		else if (!HD_QUOTED[h]) queue(body, start, "subst")
	}
	nhd = 0
	return i
}

function lex(s, line0,   i, n, c, d, j, op) {
	line = line0
	n = length(s)
	nw = 0; inword = 0; skip_target = 0; pending_delim = 0; nhd = 0
	case_depth = 0; in_pattern = 0
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		d = substr(s, i + 1, 1)
		if (in_pattern) {	# a case pattern, up to its ")", or esac
			if (c == "\n") line++
			if (c ~ /[ \t\n]/) continue
			if (c == "#") {
				while (i < n && substr(s, i + 1, 1) != "\n") i++
				continue
			}
			in_pattern = 0
			if (substr(s, i, 5) ~ /^esac([ \t\n;)]|$)/) {
				case_depth--
				i += 3
				continue
			}
			for (; i <= n && substr(s, i, 1) != ")"; i++) {
				c = substr(s, i, 1)
				if (c == "\\") i++
				else if (c == "'") i = end_sq(s, i)
				else if (c == "\"") i = end_dq(s, i)
			}
			continue
		}
		if (c == " " || c == "\t") {
			end_word()
		} else if (c == "\n") {
			end_command()
			line++
			if (nhd) i = read_heredocs(s, i + 1) - 1
		} else if (c == "#" && !inword) {
			while (i < n && substr(s, i + 1, 1) != "\n") i++
		} else if (c == "\\") {
			if (d == "\n") line++
			else add(d)
			i++
		} else if (c == "'") {
			j = end_sq(s, i)
			add(substr(s, i + 1, j - i - 1))
			word_quoted = 1
			line += newlines(substr(s, i, j - i))
			i = j
		} else if (c == "\"") {
			j = end_dq(s, i)
			add(dq_value(substr(s, i + 1, j - i - 1)))
			word_quoted = 1
			find_substitutions(substr(s, i + 1, j - i - 1), line)
			line += newlines(substr(s, i, j - i))
			i = j
		} else if (c == "`") {
			j = end_bt(s, i)
			queue(substr(s, i + 1, j - i - 1), line, "sh")
			add("$(...)")
			line += newlines(substr(s, i, j - i))
			i = j
		} else if (c == "$" && (d == "(" || d == "{")) {
			j = d == "(" ? end_paren(s, i + 1) : end_brace(s, i + 1)
			if (d == "(" && substr(s, i + 2, 1) != "(")
				queue(substr(s, i + 2, j - i - 2), line, "sh")
			add(substr(s, i, j - i + 1))
			line += newlines(substr(s, i, j - i))
			i = j
		} else if (c == "$" && d == "'") {	# $'...'
			j = i + 1
			while (j < n && substr(s, ++j, 1) != "'")
				if (substr(s, j, 1) == "\\") j++
			add(substr(s, i, j - i + 1))
			i = j
		} else if ((c == "<" || c == ">") && d == "(") {	# <(...)
			j = end_paren(s, i + 1)
			queue(substr(s, i + 2, j - i - 2), line, "sh")
			add("$(...)")
			line += newlines(substr(s, i, j - i))
			i = j
		} else if (c == "<" || c == ">" || (c == "&" && d == ">")) {
			if (inword && word ~ /^[0-9]+$/) inword = 0	# 2>...
			end_word()
			op = substr(s, i, 3)
			if (op == "<<<") {
				skip_target = 1
				i += 2
			} else if (substr(op, 1, 2) == "<<") {
				pending_delim = 1
				hd_strip = substr(op, 3, 1) == "-"
				i += hd_strip ? 2 : 1
			} else {
				skip_target = 1
				while (substr(s, i + 1, 1) ~ /[<>&|]/) i++
				# >&2: the target is part of the operator
				if (substr(s, i, 1) == "&" && substr(s, i + 1, 1) ~ /[0-9-]/) {
					while (substr(s, i + 1, 1) ~ /[0-9-]/) i++
					skip_target = 0
				}
			}
		} else if (c == ";" || c == "&" || c == "|") {
			end_command()
			if (c == ";" && d == ";") {
				i++
				if (substr(s, i + 1, 1) == "&") i++
				if (case_depth) in_pattern = 1
			} else if (c == ";" && d == "&") {
				i++
				if (case_depth) in_pattern = 1
			} else if (d == c || (c == "|" && d == "&")) {
				i++
			}
		} else if (c == "(" && inword && word ~ /=$/) {	# a=(...)
			j = end_paren(s, i)
			find_substitutions(substr(s, i + 1, j - i - 1), line, 1)
			add(substr(s, i, j - i + 1))
			line += newlines(substr(s, i, j - i))
			i = j
		} else if (c == "(" && inword && d == ")") {	# NAME()
			print "func", word
			inword = 0
			i++
		} else if (c == "(" && d == "(" && !inword) {	# ((...))
			j = end_paren(s, i)
			line += newlines(substr(s, i, j - i))
			i = j
		} else if (c == "[" && !inword && substr(s, i, 3) ~ /^\[\[[ \t]/) {
			j = end_test(s, i)
			line += newlines(substr(s, i, j - i))
			i = j
		} else if (c == "(" || c == ")") {
			end_command()
		} else {
			add(c)
		}
	}
	end_command()
}
