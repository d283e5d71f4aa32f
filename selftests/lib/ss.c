// SPDX-License-Identifier: GPL-2.0
/*
 * sockleak selftests library: iproute2 ss's output, parsed (the independent
 * source every test compares against).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_util.h"

void ss_free(struct ss_list *l)
{
	free(l->s);
	l->s = NULL;
	l->n = 0;
}

/* Parse one record (first line plus continuation lines). */
static void ss_parse_record(char *rec, struct ss_sock *s)
{
	char *tok, *save, *p;
	int i = 0;

	memset(s, 0, sizeof(*s));
	for (tok = strtok_r(rec, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save), i++) {
		switch (i) {
		case 0:
			snprintf(s->netid, sizeof(s->netid), "%s", tok);
			continue;
		case 1:
			snprintf(s->state, sizeof(s->state), "%s", tok);
			continue;
		case 2:
			s->recvq = atoll(tok);
			continue;
		case 3:
			s->sendq = atoll(tok);
			continue;
		case 4:
			snprintf(s->local, sizeof(s->local), "%s", tok);
			continue;
		case 5:
			snprintf(s->peer, sizeof(s->peer), "%s", tok);
			continue;
		}
		if (!strncmp(tok, "ino:", 4))
			s->ino = strtoul(tok + 4, NULL, 10);
		else if (!strncmp(tok, "uid:", 4))
			s->uid = strtoul(tok + 4, NULL, 10);
		else if (!strncmp(tok, "sk:", 3))
			s->cookie = strtoull(tok + 3, NULL, 16);
		else if (!strcmp(tok, "tcp-ulp-mptcp"))
			s->subflow = true;
		else if (!strncmp(tok, "token:", 6)) {
			unsigned int rem, loc, rid, lid;

			if (sscanf(tok + 6, "%x(id:%u)/%x(id:%u)", &rem, &rid,
				   &loc, &lid) == 4) {
				s->sf_token_rem = rem;
				s->sf_token_loc = loc;
			} else {
				s->token = strtoul(tok + 6, NULL, 16);
			}
		} else if (!strncmp(tok, "cgroup:", 7))
			snprintf(s->cgroup, sizeof(s->cgroup), "%s", tok + 7);
		else if (!strncmp(tok, "skmem:(", 7)) {
			s->has_skmem = true;
			for (p = tok + 7; *p && *p != ')';) {
				char key[4] = "";
				int k = 0;
				long long v;

				while (isalpha((unsigned char)*p) && k < 3)
					key[k++] = *p++;
				key[k] = '\0';
				v = strtoll(p, &p, 10);
				if (!strcmp(key, "r"))
					s->r = v;
				else if (!strcmp(key, "rb"))
					s->rb = v;
				else if (!strcmp(key, "t"))
					s->t = v;
				else if (!strcmp(key, "tb"))
					s->tb = v;
				else if (!strcmp(key, "f"))
					s->f = v;
				else if (!strcmp(key, "w"))
					s->w = v;
				else if (!strcmp(key, "o"))
					s->o = v;
				else if (!strcmp(key, "bl"))
					s->bl = v;
				else if (!strcmp(key, "d"))
					s->d = v;
				if (*p == ',')
					p++;
				else if (*p != ')')
					break;
			}
		}
	}
}

/*
 * Run ss with options opts (in network namespace ns, a name under
 * /run/netns, or the caller's when NULL) and parse every socket it
 * prints. opts must select more than one socket table (-t -u, -t -M...),
 * so that ss prints the Netid column, and hold -H.
 */
int ss_list_opts(const char *ns, const char *opts, struct ss_list *l)
{
	char cmd[256], *out, *line, *next, *rec = NULL;
	size_t reclen = 0;
	int cap = 64;

	snprintf(cmd, sizeof(cmd), SS_BIN " %s %s%s 2>/dev/null", opts,
		 ns ? "-N " : "", ns ? ns : "");
	out = sl_run(cmd);
	if (!out)
		return -1;
	l->n = 0;
	l->s = calloc(cap, sizeof(*l->s));
	for (line = out; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line != ' ' && *line != '\t' && rec) {
			if (l->n == cap) {
				cap *= 2;
				l->s = realloc(l->s, cap * sizeof(*l->s));
			}
			ss_parse_record(rec, &l->s[l->n++]);
			free(rec);
			rec = NULL;
			reclen = 0;
		}
		rec = realloc(rec, reclen + strlen(line) + 2);
		memcpy(rec + reclen, line, strlen(line));
		reclen += strlen(line);
		rec[reclen++] = ' ';
		rec[reclen] = '\0';
	}
	if (rec) {
		if (l->n == cap) {
			cap++;
			l->s = realloc(l->s, cap * sizeof(*l->s));
		}
		ss_parse_record(rec, &l->s[l->n++]);
		free(rec);
	}
	free(out);
	return l->n;
}

/* Every TCP and UDP socket, as ss -tuanmieH prints them. */
int ss_list(const char *ns, struct ss_list *l)
{
	return ss_list_opts(ns, "-tuanmieH", l);
}

struct ss_sock *ss_find(struct ss_list *l, unsigned long long cookie)
{
	for (int i = 0; i < l->n; i++)
		if (l->s[i].cookie == cookie)
			return &l->s[i];
	return NULL;
}

/* Same sockets, states and memory in both lists. */
bool ss_same(struct ss_list *a, struct ss_list *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++) {
		struct ss_sock *x = &a->s[i], *y = ss_find(b, x->cookie);

		if (!y || strcmp(x->state, y->state) || x->r != y->r ||
		    x->t != y->t || x->f != y->f || x->w != y->w ||
		    x->rb != y->rb || x->tb != y->tb || x->bl != y->bl)
			return false;
	}
	return true;
}
