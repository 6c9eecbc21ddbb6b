/*
 * data_template.c - prompt templates (see data_template.h). template_init checks the whole string
 * once (placeholders, escapes) so that rendering cannot fail except for room. A chat built-in
 * renders what its model's Jinja chat template renders for one user message with
 * add_generation_prompt: Llama 3's applies `| trim` to the message (Python's str.strip(), so
 * Unicode whitespace too), Qwen's keeps it as it is.
 */
#include "attnrl/data_template.h"

#include <ctype.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "attnrl/unicode.h"

static const struct {
	const char *name, *text;
	int trim; /* the question stripped of leading and trailing whitespace */
} builtins[] = {
	{ "plain", "{question}", 0 },
	{ "paper", "{question}\nPlease reason step by step, and put your final answer within "
		   "\\boxed{{}}.", 0 },
	{ "qwen-chat", "<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n", 0 },
	{ "llama3-chat", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{question}"
			 "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", 1 },
	{ "tinyzero", "A conversation between User and Assistant. The user asks a question, and the "
		      "Assistant solves it. The assistant first thinks about the reasoning process in "
		      "the mind and then provides the user with the answer.\nUser: {question}\n"
		      "Assistant: Let me solve this step by step.\n<think>", 0 },
};

static int builtin_index(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (!strcmp(name, builtins[i].name))
			return (int)i;
	return -1;
}

const char *template_builtin(const char *name)
{
	int i = builtin_index(name);
	return i < 0 ? NULL : builtins[i].text;
}

/* bytes of the whitespace character at s[0..n) as Python's str.isspace() counts it, else 0 */
static size_t space_len(const char *s, size_t n)
{
	uint32_t cp;
	int k = utf8_decode((const unsigned char *)s, n, &cp);
	if (k <= 0)
		return 0;
	int space = (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 ||
		    cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
		    cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
	return space ? (size_t)k : 0;
}

/* the question without leading and trailing whitespace: its start, and its length in *len */
static const char *trim(const char *q, size_t *len)
{
	size_t n = strlen(q), start = 0, end, i, k;
	while (start < n && (k = space_len(q + start, n - start)))
		start += k;
	for (end = i = start; i < n;) {
		if ((k = space_len(q + i, n - i))) {
			i += k;
			continue;
		}
		uint32_t cp;
		int c = utf8_decode((const unsigned char *)q + i, n - i, &cp);
		i += c > 0 ? (size_t)c : 1;
		end = i;
	}
	*len = end - start;
	return q + start;
}

/* walks the template: each literal byte to out (when out), each {question} (qlen bytes) counted */
static int walk(const char *s, char *out, size_t cap, const char *question, size_t qlen,
		size_t *len, int *n_question, char *err, size_t n)
{
	size_t k = 0;
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
	if (walk(text, NULL, 0, NULL, 0, &t->fixed_len, &t->n_question, err, n))
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
	t->trim = builtin_index(spec) >= 0 && builtins[builtin_index(spec)].trim;
	return 0;
}

int template_render(const struct template *t, const char *question, char *out, size_t cap)
{
	size_t len;
	int nq;
	char err[8];
	size_t qlen = question ? strlen(question) : 0;
	if (t->trim && question)
		question = trim(question, &qlen);
	if (walk(t->text, out, cap, question, qlen, &len, &nq, err, sizeof(err))) {
		if (cap)
			out[0] = '\0';
		return -1;
	}
	return len > (size_t)0x7fffffff ? -1 : (int)len;
}
