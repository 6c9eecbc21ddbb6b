/*
 * data_template.c - prompt templates (see data_template.h). template_init checks the whole string
 * once (placeholders, escapes) so that rendering cannot fail except for room.
 */
#include "attnrl/data_template.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const builtins[][2] = {
	{ "plain", "{question}" },
	{ "paper", "{question}\nPlease reason step by step, and put your final answer within "
		   "\\boxed{{}}." },
	{ "qwen-chat", "<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n" },
	{ "llama3-chat", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{question}"
			 "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n" },
	{ "tinyzero", "A conversation between User and Assistant. The user asks a question, and the "
		      "Assistant solves it. The assistant first thinks about the reasoning process in "
		      "the mind and then provides the user with the answer.\nUser: {question}\n"
		      "Assistant: Let me solve this step by step.\n<think>" },
};

const char *template_builtin(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (!strcmp(name, builtins[i][0]))
			return builtins[i][1];
	return NULL;
}

/* walks the template: each literal byte to out (when out), each {question} counted */
static int walk(const char *s, char *out, size_t cap, const char *question, size_t *len,
		int *n_question, char *err, size_t n)
{
	size_t qlen = question ? strlen(question) : 0, k = 0;
	*n_question = 0;
	for (const char *p = s; *p; p++) {
		const char *lit = p, *q = NULL;
		size_t litlen = 1;
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			p++;
		} else if (p[0] == '{') {
			const char *e = p + 1;
			while (isalnum((unsigned char)*e) || *e == '_')
				e++;
			if (*e != '}' || e == p + 1) {
				snprintf(err, n, "data.template: '{' at byte %d is not a placeholder; "
					 "the only placeholder is {question}, and {{ writes a literal '{'",
					 (int)(p - s));
				return -1;
			}
			if ((size_t)(e - p - 1) != strlen("question") || strncmp(p + 1, "question", 8)) {
				snprintf(err, n, "data.template: unknown placeholder {%.*s}; the only "
					 "placeholder is {question} ({{ writes a literal '{')",
					 (int)(e - p - 1), p + 1);
				return -1;
			}
			q = question ? question : "";
			litlen = qlen;
			(*n_question)++;
			p = e;
		}
		if (out) {
			if (k + litlen + 1 > cap)
				return -1;
			memcpy(out + k, q ? q : lit, litlen);
		}
		k += litlen;
	}
	if (out)
		out[k] = '\0';
	*len = k;
	return 0;
}

int template_init(struct template *t, const char *spec, char *err, size_t n)
{
	const char *text = template_builtin(spec);
	memset(t, 0, sizeof(*t));
	if (!text)
		text = spec;
	if (strlen(text) >= sizeof(t->text)) {
		snprintf(err, n, "data.template: longer than %d bytes", TEMPLATE_MAX - 1);
		return -1;
	}
	if (walk(text, NULL, 0, NULL, &t->fixed_len, &t->n_question, err, n))
		return -1;
	if (!t->n_question) {
		snprintf(err, n, "data.template: '%.60s' is neither a built-in (plain, paper, qwen-chat, "
			 "llama3-chat, tinyzero) nor a string with {question}", spec);
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		return -1;
	}
	strcpy(t->text, text);
	return 0;
}

int template_render(const struct template *t, const char *question, char *out, size_t cap)
{
	size_t len;
	int nq;
	char err[8];
	if (walk(t->text, out, cap, question, &len, &nq, err, sizeof(err))) {
		if (cap)
			out[0] = '\0';
		return -1;
	}
	return len > (size_t)0x7fffffff ? -1 : (int)len;
}
