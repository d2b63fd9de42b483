/*
 * s3/xml: every S3 document we read, as AWS's API Reference shows it and
 * as radosgw writes it, every malformed body with the exact code, and the
 * request bodies we write, escaping and round trips included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "s3/xml.h"
#include "s3/xml_intern.h"

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
#define NS   "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

#define LEN(s) (sizeof(s) - 1)
/* A writable copy of a string literal (struct fields are char *). */
#define W(s) ((char[]){s})
/* A string literal and its length. */
#define STR(s) s, strlen(s)

/* ---- <Error> ---- */

/* The API Reference's REST error response. */
static const char aws_error[] =
	DECL "\n"
	     "<Error>\n"
	     "  <Code>NoSuchKey</Code>\n"
	     "  <Message>The resource you requested does not exist</Message>\n"
	     "  <Resource>/mybucket/myfoto.jpg</Resource>\n"
	     "  <RequestId>4442587FB7D0A2F9</RequestId>\n"
	     "</Error>\n";

/* radosgw: one line, an empty Message, its own extra elements. */
static const char rgw_error[] =
	DECL "<Error><Code>NoSuchBucket</Code><Message></Message>"
	     "<BucketName>backups</BucketName><RequestId>"
	     "tx00000a1b2c3d4e5f60718-0065a0b1c2-1234-default</RequestId>"
	     "<HostId>1234-default-default</HostId></Error>";

static void test_error(void **state)
{
	struct s3xml_error e;

	(void)state;
	assert_int_equal(s3xml_parse_error(aws_error, LEN(aws_error), &e),
			 S3XML_OK);
	assert_string_equal(e.code, "NoSuchKey");
	assert_string_equal(e.message,
			    "The resource you requested does not exist");
	assert_string_equal(e.request_id, "4442587FB7D0A2F9");
	assert_string_equal(e.resource, "/mybucket/myfoto.jpg");
	assert_true(s3xml_is_error_doc(aws_error, LEN(aws_error)));

	assert_int_equal(s3xml_parse_error(rgw_error, LEN(rgw_error), &e),
			 S3XML_OK);
	assert_string_equal(e.code, "NoSuchBucket");
	assert_string_equal(e.message, "");
	assert_string_equal(e.request_id,
			    "tx00000a1b2c3d4e5f60718-0065a0b1c2-1234-default");
	assert_string_equal(e.resource, "");

	/* No declaration, no namespace: what a scripted server sends. */
	assert_int_equal(s3xml_parse_error(STR("<Error><Code>SlowDown</Code>"
					       "</Error>"),
					   &e),
			 S3XML_OK);
	assert_string_equal(e.code, "SlowDown");
}

static void test_error_cleaned(void **state)
{
	char body[2048], msg[600];
	struct s3xml_error e;
	int n;

	(void)state;
	/* Control characters become spaces. */
	n = snprintf(body, sizeof(body),
		     "<Error><Code>Bad\tCode</Code><Message>line one\r\nline "
		     "two</Message></Error>");
	assert_int_equal(s3xml_parse_error(body, (size_t)n, &e), S3XML_OK);
	assert_string_equal(e.code, "Bad Code");
	/* XML turns CR LF into LF on reading. */
	assert_string_equal(e.message, "line one line two");

	/* Cut to fit, never inside a UTF-8 sequence: 510 'a' then "é". */
	memset(msg, 'a', 510);
	memcpy(msg + 510, "\xc3\xa9zz", 5);
	n = snprintf(body, sizeof(body),
		     "<Error><Code>X</Code><Message>%s</Message></Error>", msg);
	assert_int_equal(s3xml_parse_error(body, (size_t)n, &e), S3XML_OK);
	assert_int_equal(strlen(e.message), 510);
	assert_int_equal(e.message[509], 'a');

	/* 511 'a' then "é": the 'a's fit exactly. */
	memset(msg, 'a', 511);
	memcpy(msg + 511, "\xc3\xa9", 3);
	n = snprintf(body, sizeof(body),
		     "<Error><Code>X</Code><Message>%s</Message></Error>", msg);
	assert_int_equal(s3xml_parse_error(body, (size_t)n, &e), S3XML_OK);
	assert_int_equal(strlen(e.message), 511);

	/* A long code is cut to 63 bytes. */
	memset(msg, 'C', 100);
	msg[100] = '\0';
	n = snprintf(body, sizeof(body), "<Error><Code>%s</Code></Error>", msg);
	assert_int_equal(s3xml_parse_error(body, (size_t)n, &e), S3XML_OK);
	assert_int_equal(strlen(e.code), 63);
}

static void test_error_malformed(void **state)
{
	static const char no_code[] = "<Error><Message>m</Message></Error>";
	static const char empty_code[] = "<Error><Code/></Error>";
	static const char other[] = "<Err><Code>X</Code></Err>";
	struct s3xml_error e;

	(void)state;
	assert_int_equal(s3xml_parse_error(no_code, LEN(no_code), &e),
			 S3XML_ESHAPE);
	assert_string_equal(e.code, "");
	assert_int_equal(s3xml_parse_error(empty_code, LEN(empty_code), &e),
			 S3XML_ESHAPE);
	assert_int_equal(s3xml_parse_error(other, LEN(other), &e),
			 S3XML_ESHAPE);
	assert_false(s3xml_is_error_doc(other, LEN(other)));
	assert_int_equal(
		s3xml_parse_error(STR("<html>502 Bad Gateway</html"), &e),
		S3XML_EPARSE);
	assert_int_equal(s3xml_parse_error(STR(""), &e), S3XML_EPARSE);
	assert_int_equal(s3xml_parse_error(NULL, 0, &e), S3XML_EPARSE);
	assert_false(s3xml_is_error_doc("Service Unavailable", 19));
	assert_false(s3xml_is_error_doc(NULL, 0));
	/* An undeclared prefix is not namespace-well-formed. */
	assert_int_equal(
		s3xml_parse_error(STR("<s3:Error><Code>X</Code></s3:Error>"),
				  &e),
		S3XML_EPARSE);
}

/* ---- ListObjectsV2 ---- */

/* The API Reference's example, as AWS indents it. */
static const char aws_list[] = DECL
	"\n"
	"<ListBucketResult " NS ">\n"
	"    <Name>bucket</Name>\n"
	"    <Prefix/>\n"
	"    <KeyCount>2</KeyCount>\n"
	"    <MaxKeys>1000</MaxKeys>\n"
	"    <IsTruncated>false</IsTruncated>\n"
	"    <Contents>\n"
	"        <Key>my-image.jpg</Key>\n"
	"        <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"
	"        <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>\n"
	"        <Size>434234</Size>\n"
	"        <StorageClass>STANDARD</StorageClass>\n"
	"    </Contents>\n"
	"    <Contents>\n"
	"        <Key>a &amp; b+c%d \xc3\xa9t\xc3\xa9 &lt;1&gt;.sql.gz</Key>\n"
	"        <LastModified>2026-11-23T09:30:05.000Z</LastModified>\n"
	"        <ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>\n"
	"        <Size>18446744073709551615</Size>\n"
	"        <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e</ID>"
	"<DisplayName>me</DisplayName></Owner>\n"
	"        <StorageClass>STANDARD</StorageClass>\n"
	"    </Contents>\n"
	"</ListBucketResult>\n";

static void test_list_objects(void **state)
{
	struct s3xml_list_objects l;

	(void)state;
	assert_int_equal(
		s3xml_parse_list_objects_v2(aws_list, LEN(aws_list), &l),
		S3XML_OK);
	assert_false(l.is_truncated);
	assert_null(l.next_continuation_token);
	assert_int_equal(l.key_count, 2);
	assert_int_equal(l.nobjects, 2);
	assert_int_equal(l.nprefixes, 0);
	assert_string_equal(l.objects[0].key, "my-image.jpg");
	assert_int_equal(l.objects[0].size, 434234);
	assert_int_equal(l.objects[0].last_modified, 1255369830);
	assert_string_equal(l.objects[0].etag,
			    "fba9dede5f27731c9771645a39863328");
	/* Without EncodingType, '+' and '%' are the key's own. */
	assert_string_equal(l.objects[1].key,
			    "a & b+c%d \xc3\xa9t\xc3\xa9 <1>.sql.gz");
	assert_true(l.objects[1].size == UINT64_MAX);
	assert_int_equal(l.objects[1].last_modified, 1795426205);
	assert_string_equal(l.objects[1].etag,
			    "3858f62230ac3c915f300c664312c11f-9");
	s3xml_list_objects_dispose(&l);
	assert_null(l.objects);
	/* Disposing twice is fine, and so is NULL. */
	s3xml_list_objects_dispose(&l);
	s3xml_list_objects_dispose(NULL);
}

/*
 * radosgw with encoding-type=url, a delimiter and max-keys=2: one line,
 * "%20" for a space, "%2B" for '+', Type, and (some versions) KeyCount
 * inside CommonPrefixes. The token is the next key.
 */
static const char rgw_list_url[] =
	DECL "<ListBucketResult " NS "><Name>backups</Name>"
	     "<Prefix>daily%2F</Prefix><MaxKeys>2</MaxKeys>"
	     "<Delimiter>%2F</Delimiter><IsTruncated>true</IsTruncated>"
	     "<EncodingType>url</EncodingType>"
	     "<Contents><Key>daily/a%20b%2Bc%26d%25e%C3%A9.sql.gz</Key>"
	     "<LastModified>2026-11-20T03:12:44.123Z</LastModified>"
	     "<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag>"
	     "<Size>0</Size><StorageClass>STANDARD</StorageClass>"
	     "<Type>Normal</Type></Contents>"
	     "<CommonPrefixes><Prefix>daily/app%20one/</Prefix>"
	     "<KeyCount>1</KeyCount></CommonPrefixes>"
	     "<NextContinuationToken>daily/app one/x</NextContinuationToken>"
	     "<KeyCount>2</KeyCount></ListBucketResult>";

/* AWS with encoding-type=url writes a space as '+'. */
static const char aws_list_url[] =
	"<ListBucketResult " NS "><Name>b</Name><Prefix></Prefix>"
	"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
	"</NextContinuationToken><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys>"
	"<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
	"<Contents><Key>x/a+b%2Bc</Key><LastModified>2026-11-23T09:30:05Z"
	"</LastModified><ETag>\"e\"</ETag><Size>7</Size></Contents>"
	"</ListBucketResult>";

static void test_list_objects_url(void **state)
{
	struct s3xml_list_objects l;

	(void)state;
	assert_int_equal(s3xml_parse_list_objects_v2(rgw_list_url,
						     LEN(rgw_list_url), &l),
			 S3XML_OK);
	assert_true(l.is_truncated);
	assert_string_equal(l.next_continuation_token, "daily/app one/x");
	assert_int_equal(l.key_count, 2);
	assert_int_equal(l.nobjects, 1);
	assert_string_equal(l.objects[0].key, "daily/a b+c&d%e\xc3\xa9.sql.gz");
	assert_int_equal(l.objects[0].size, 0);
	assert_int_equal(l.objects[0].last_modified, 1795144364);
	assert_int_equal(l.nprefixes, 1);
	assert_string_equal(l.prefixes[0], "daily/app one/");
	s3xml_list_objects_dispose(&l);

	assert_int_equal(s3xml_parse_list_objects_v2(aws_list_url,
						     LEN(aws_list_url), &l),
			 S3XML_OK);
	assert_string_equal(l.objects[0].key, "x/a b+c");
	/* Tokens are opaque: never decoded. */
	assert_string_equal(l.next_continuation_token,
			    "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	s3xml_list_objects_dispose(&l);
}

static void test_list_objects_empty(void **state)
{
	static const char aws_empty[] =
		DECL "\n<ListBucketResult " NS "><Name>b</Name><Prefix>none/"
		     "</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>"
		     "<IsTruncated>false</IsTruncated></ListBucketResult>";
	struct s3xml_list_objects l;

	(void)state;
	assert_int_equal(
		s3xml_parse_list_objects_v2(aws_empty, LEN(aws_empty), &l),
		S3XML_OK);
	assert_int_equal(l.nobjects, 0);
	assert_null(l.objects);
	assert_int_equal(l.nprefixes, 0);
	assert_false(l.is_truncated);
	s3xml_list_objects_dispose(&l);
}

/* A listing with one Contents whose inside is CONTENTS. */
static int list_with(const char *contents, const char *extra)
{
	struct s3xml_list_objects l;
	char body[20000];
	int n, rc;

	n = snprintf(body, sizeof(body),
		     "<ListBucketResult " NS "><IsTruncated>false</IsTruncated>"
		     "%s<Contents>%s</Contents></ListBucketResult>",
		     extra, contents);
	assert_true(n > 0 && (size_t)n < sizeof(body));
	rc = s3xml_parse_list_objects_v2(body, (size_t)n, &l);
	if (rc) {
		assert_null(l.objects);
		assert_int_equal(l.nobjects, 0);
	}
	s3xml_list_objects_dispose(&l);
	return rc;
}

#define OBJ(key, time, etag, size)                                             \
	"<Key>" key "</Key><LastModified>" time "</LastModified><ETag>" etag   \
	"</ETag><Size>" size "</Size>"
#define T0 "2026-11-23T09:30:05.000Z"

static void test_list_objects_malformed(void **state)
{
	char big[S3XML_MAX_TEXT + 100];
	struct s3xml_list_objects l;

	(void)state;
	assert_int_equal(list_with(OBJ("k", T0, "\"e\"", "1"), ""), S3XML_OK);
	/* Sizes: negative, overflowing, not decimal. */
	assert_int_equal(list_with(OBJ("k", T0, "e", "-1"), ""), S3XML_ESHAPE);
	assert_int_equal(
		list_with(OBJ("k", T0, "e", "18446744073709551616"), ""),
		S3XML_ESHAPE);
	assert_int_equal(
		list_with(OBJ("k", T0, "e", "99999999999999999999999"), ""),
		S3XML_ESHAPE);
	assert_int_equal(list_with(OBJ("k", T0, "e", " 1"), ""), S3XML_ESHAPE);
	assert_int_equal(list_with(OBJ("k", T0, "e", "1e3"), ""), S3XML_ESHAPE);
	assert_int_equal(list_with(OBJ("k", T0, "e", "0x10"), ""),
			 S3XML_ESHAPE);
	assert_int_equal(list_with(OBJ("k", T0, "e", ""), ""), S3XML_ESHAPE);
	/* Required elements. */
	assert_int_equal(list_with("<Key>k</Key><LastModified>" T0
				   "</LastModified><ETag>e</ETag>",
				   ""),
			 S3XML_ESHAPE);
	assert_int_equal(list_with("<LastModified>" T0 "</LastModified><ETag>e"
				   "</ETag><Size>1</Size>",
				   ""),
			 S3XML_ESHAPE);
	assert_int_equal(list_with(OBJ("", T0, "e", "1"), ""), S3XML_ESHAPE);
	assert_int_equal(list_with(OBJ("k", "yesterday", "e", "1"), ""),
			 S3XML_ESHAPE);
	/* A value with an element inside. */
	assert_int_equal(list_with(OBJ("a<b/>c", T0, "e", "1"), ""),
			 S3XML_ESHAPE);
	/* URL decoding: bad escapes, a NUL, an unknown encoding. */
	assert_int_equal(list_with(OBJ("a%2", T0, "e", "1"),
				   "<EncodingType>url</EncodingType>"),
			 S3XML_ESHAPE);
	assert_int_equal(list_with(OBJ("a%zz", T0, "e", "1"),
				   "<EncodingType>url</EncodingType>"),
			 S3XML_ESHAPE);
	assert_int_equal(list_with(OBJ("a%00b", T0, "e", "1"),
				   "<EncodingType>url</EncodingType>"),
			 S3XML_ESHAPE);
	assert_int_equal(list_with(OBJ("k", T0, "e", "1"),
				   "<EncodingType>base64</EncodingType>"),
			 S3XML_ESHAPE);
	assert_int_equal(list_with(OBJ("k", T0, "e", "1"),
				   "<CommonPrefixes></CommonPrefixes>"),
			 S3XML_ESHAPE);
	/* A key longer than any S3 takes. */
	memset(big, 'k', S3XML_MAX_TEXT + 1);
	big[S3XML_MAX_TEXT + 1] = '\0';
	{
		char contents[sizeof(big) + 200];

		snprintf(contents, sizeof(contents),
			 "<Key>%s</Key><LastModified>" T0
			 "</LastModified><ETag>e</ETag><Size>1</Size>",
			 big);
		assert_int_equal(list_with(contents, ""), S3XML_ESHAPE);
	}

	/* IsTruncated: required, "true" or "false". */
	assert_int_equal(s3xml_parse_list_objects_v2(
				 STR("<ListBucketResult><Name>b</Name>"
				     "</ListBucketResult>"),
				 &l),
			 S3XML_ESHAPE);
	assert_int_equal(s3xml_parse_list_objects_v2(
				 STR("<ListBucketResult><IsTruncated>yes"
				     "</IsTruncated></ListBucketResult>"),
				 &l),
			 S3XML_ESHAPE);
	/* The wrong document, another namespace, an Error in a 200. */
	assert_int_equal(s3xml_parse_list_objects_v2(
				 STR("<ListAllMyBucketsResult/>"), &l),
			 S3XML_ESHAPE);
	assert_int_equal(
		s3xml_parse_list_objects_v2(
			STR("<ListBucketResult xmlns=\"urn:x\"><IsTruncated>"
			    "false</IsTruncated></ListBucketResult>"),
			&l),
		S3XML_ESHAPE);
	assert_int_equal(
		s3xml_parse_list_objects_v2(aws_error, LEN(aws_error), &l),
		S3XML_EERRORDOC);
	/* S3rver's misspelt namespace is S3's; a near miss is not. */
	assert_int_equal(
		s3xml_parse_list_objects_v2(
			STR("<ListBucketResult xmlns=\"http://doc.s3.amazonaws"
			    ".com/2006-03-01/\"><IsTruncated>true</IsTruncated>"
			    "<NextContinuationToken>t</NextContinuationToken>"
			    "</ListBucketResult>"),
			&l),
		S3XML_OK);
	assert_true(l.is_truncated);
	assert_string_equal(l.next_continuation_token, "t");
	s3xml_list_objects_dispose(&l);
	assert_int_equal(
		s3xml_parse_list_objects_v2(
			STR("<ListBucketResult xmlns=\"http://doc.s3.amazonaws"
			    ".com/2006-03-01\"><IsTruncated>false</IsTruncated>"
			    "</ListBucketResult>"),
			&l),
		S3XML_ESHAPE);
	/* Not XML, cut short, empty. */
	assert_int_equal(
		s3xml_parse_list_objects_v2(STR("Service Unavailable"), &l),
		S3XML_EPARSE);
	assert_int_equal(s3xml_parse_list_objects_v2(aws_list, 200, &l),
			 S3XML_EPARSE);
	assert_int_equal(s3xml_parse_list_objects_v2(STR("   \r\n"), &l),
			 S3XML_EPARSE);
	assert_null(l.objects);
}

/* ---- safety of the reader ---- */

static void test_no_dtd(void **state)
{
	static const char xxe[] = DECL
		"<!DOCTYPE Error [<!ENTITY e SYSTEM \"file:///etc/passwd\">"
		"]><Error><Code>&e;</Code></Error>";
	static const char laughs[] =
		"<!DOCTYPE Error [<!ENTITY a \"aaaaaaaaaa\">"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
		"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
		"<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>"
		"<Error><Code>&d;</Code></Error>";
	static const char plain_doctype[] =
		"<!DOCTYPE Error><Error><Code>X</Code></Error>";
	static const char undefined[] = "<Error><Code>&x;</Code></Error>";
	static const char charref[] =
		"<Error><Code>A&#66;&#x43;&amp;</Code></Error>";
	struct s3xml_error e;

	(void)state;
	assert_int_equal(s3xml_parse_error(xxe, LEN(xxe), &e), S3XML_EPARSE);
	assert_int_equal(s3xml_parse_error(laughs, LEN(laughs), &e),
			 S3XML_EPARSE);
	assert_int_equal(
		s3xml_parse_error(plain_doctype, LEN(plain_doctype), &e),
		S3XML_EPARSE);
	assert_int_equal(s3xml_parse_error(undefined, LEN(undefined), &e),
			 S3XML_EPARSE);
	/* Character references and the predefined entities are fine. */
	assert_int_equal(s3xml_parse_error(charref, LEN(charref), &e),
			 S3XML_OK);
	assert_string_equal(e.code, "ABC&");
}

/* Every body is read as UTF-8, whatever it declares. */
static void test_utf8_only(void **state)
{
	static const char latin1[] =
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
		"<Error><Code>caf\xe9</Code></Error>";
	static const char declared_latin1[] =
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
		"<Error><Code>caf\xc3\xa9</Code></Error>";
	static const char odd_name[] =
		"<?xml version=\"1.0\" encoding=\"X-NO-SUCH\"?>"
		"<Error><Code>A</Code></Error>";
	struct s3xml_error e;

	(void)state;
	assert_int_equal(s3xml_parse_error(latin1, LEN(latin1), &e),
			 S3XML_EPARSE);
	assert_int_equal(
		s3xml_parse_error(declared_latin1, LEN(declared_latin1), &e),
		S3XML_OK);
	assert_string_equal(e.code, "caf\xc3\xa9");
	assert_int_equal(s3xml_parse_error(odd_name, LEN(odd_name), &e),
			 S3XML_OK);
	assert_string_equal(e.code, "A");
}

/*
 * A listing of exactly S3XML_MAX_BODY bytes (padded with trailing blanks)
 * whose keys are PREFIX and their index; *COUNT keys.
 */
static char *listing_at_cap(const char *prefix, size_t *count)
{
	char *body = malloc(S3XML_MAX_BODY + 2), key[900];
	size_t n = 0;

	assert_non_null(body);
	*count = 0;
	n += (size_t)sprintf(body, "<ListBucketResult " NS ">"
				   "<IsTruncated>false</IsTruncated>");
	while (n + 1024 < S3XML_MAX_BODY) {
		snprintf(key, sizeof(key), "%s%012zu", prefix, *count);
		n += (size_t)sprintf(
			body + n,
			"<Contents>" OBJ("%s", T0, "\"e\"", "1") "</Contents>",
			key);
		(*count)++;
	}
	n += (size_t)sprintf(body + n, "</ListBucketResult>");
	memset(body + n, ' ', S3XML_MAX_BODY + 1 - n);
	return body;
}

static void test_size_cap(void **state)
{
	struct s3xml_list_objects l;
	char prefix[801], last[900], *body;
	size_t count;

	(void)state;
	/* Keys of 812 bytes: fewer than S3XML_MAX_ITEMS fill the cap. */
	memset(prefix, 'p', 800);
	prefix[800] = '\0';
	body = listing_at_cap(prefix, &count);
	/* Exactly the cap: parsed. */
	assert_int_equal(s3xml_parse_list_objects_v2(body, S3XML_MAX_BODY, &l),
			 S3XML_OK);
	assert_int_equal(l.nobjects, count);
	assert_true(count > 8000 && count < S3XML_MAX_ITEMS);
	snprintf(last, sizeof(last), "%s%012zu", prefix, count - 1);
	assert_string_equal(l.objects[count - 1].key, last);
	s3xml_list_objects_dispose(&l);
	/* One byte more: refused before parsing. */
	assert_int_equal(
		s3xml_parse_list_objects_v2(body, S3XML_MAX_BODY + 1, &l),
		S3XML_EPARSE);
	free(body);

	/* Short keys: more entries than any page may hold. */
	body = listing_at_cap("k", &count);
	assert_true(count > S3XML_MAX_ITEMS);
	assert_int_equal(s3xml_parse_list_objects_v2(body, S3XML_MAX_BODY, &l),
			 S3XML_ESHAPE);
	assert_null(l.objects);
	free(body);
}

static void record_error(void *ctx, xmlErrorPtr e)
{
	(void)e;
	(*(int *)ctx)++;
}

/* libxml2 prints nothing, and a caller's own handler is left in place. */
static void test_quiet(void **state)
{
	struct s3xml_list_objects l;
	char buf[64];
	FILE *tmp = tmpfile();
	int saved, calls = 0;
	long size;

	(void)state;
	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(tmp), 2), 2);
	assert_int_equal(s3xml_parse_list_objects_v2(STR("<a><b></a>"), &l),
			 S3XML_EPARSE);
	assert_int_equal(s3xml_parse_list_objects_v2(STR("<?xml?>&"), &l),
			 S3XML_EPARSE);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	fseek(tmp, 0, SEEK_END);
	size = ftell(tmp);
	if (size != 0) {
		rewind(tmp);
		buf[fread(buf, 1, sizeof(buf) - 1, tmp)] = '\0';
		fail_msg("libxml2 wrote to stderr: %s", buf);
	}
	fclose(tmp);

	xmlSetStructuredErrorFunc(&calls, record_error);
	assert_int_equal(s3xml_parse_list_objects_v2(STR("<a><b></a>"), &l),
			 S3XML_EPARSE);
	assert_int_equal(calls, 0);
	assert_ptr_equal(xmlStructuredError, record_error);
	assert_ptr_equal(xmlStructuredErrorContext, &calls);
	xmlSetStructuredErrorFunc(NULL, NULL);
}

/* Every prefix of a document fails cleanly; every byte changed is safe. */
static void test_hostile_bytes(void **state)
{
	size_t n = strlen(rgw_list_url), i;
	char *copy = malloc(n);

	(void)state;
	assert_non_null(copy);
	for (i = 0; i < n; i++) {
		struct s3xml_list_objects l;

		memcpy(copy, rgw_list_url, i);
		assert_int_not_equal(s3xml_parse_list_objects_v2(copy, i, &l),
				     S3XML_OK);
		assert_null(l.objects);
	}
	for (i = 0; i < n; i++) {
		static const char subst[] = {'<', '>', '&', '\0', '%', '"'};
		size_t k;

		for (k = 0; k < sizeof(subst); k++) {
			struct s3xml_list_objects l;
			int rc;

			memcpy(copy, rgw_list_url, n);
			copy[i] = subst[k];
			rc = s3xml_parse_list_objects_v2(copy, n, &l);
			assert_true(rc == S3XML_OK || rc == S3XML_EPARSE ||
				    rc == S3XML_ESHAPE);
			s3xml_list_objects_dispose(&l);
		}
	}
	free(copy);
}

/* ---- multipart upload ---- */

static void test_initiate(void **state)
{
	static const char aws[] = DECL
		"\n<InitiateMultipartUploadResult " NS ">\n"
		"  <Bucket>example-bucket</Bucket>\n"
		"  <Key>example-object</Key>\n"
		"  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRz"
		"IHVwbG9hZA</UploadId>\n"
		"</InitiateMultipartUploadResult>";
	static const char rgw[] =
		DECL "<InitiateMultipartUploadResult " NS "><Tenant></Tenant>"
		     "<Bucket>backups</Bucket><Key>daily/app/x.sql.gz</Key>"
		     "<UploadId>2~Tbg8UcfRgBxuUvSdIt7cx9JNgwVGqAh</UploadId>"
		     "</InitiateMultipartUploadResult>";
	static const char missing[] =
		"<InitiateMultipartUploadResult><Key>k</Key>"
		"</InitiateMultipartUploadResult>";
	static const char empty[] =
		"<InitiateMultipartUploadResult><UploadId></UploadId>"
		"</InitiateMultipartUploadResult>";
	char *id = W("sentinel");

	(void)state;
	assert_int_equal(s3xml_parse_initiate_multipart(aws, LEN(aws), &id),
			 S3XML_OK);
	assert_string_equal(id,
			    "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRz"
			    "IHVwbG9hZA");
	free(id);
	assert_int_equal(s3xml_parse_initiate_multipart(rgw, LEN(rgw), &id),
			 S3XML_OK);
	assert_string_equal(id, "2~Tbg8UcfRgBxuUvSdIt7cx9JNgwVGqAh");
	free(id);

	assert_int_equal(
		s3xml_parse_initiate_multipart(missing, LEN(missing), &id),
		S3XML_ESHAPE);
	assert_null(id);
	assert_int_equal(s3xml_parse_initiate_multipart(empty, LEN(empty), &id),
			 S3XML_ESHAPE);
	assert_null(id);
	assert_int_equal(
		s3xml_parse_initiate_multipart(aws_list, LEN(aws_list), &id),
		S3XML_ESHAPE);
	assert_int_equal(
		s3xml_parse_initiate_multipart(aws_error, LEN(aws_error), &id),
		S3XML_EERRORDOC);
	assert_int_equal(s3xml_parse_initiate_multipart(STR("{}"), &id),
			 S3XML_EPARSE);
	assert_null(id);
}

static void test_complete(void **state)
{
	static const char aws[] = DECL
		"\n<CompleteMultipartUploadResult " NS ">\n"
		"  <Location>http://Example-Bucket.s3.eu-west-1.amazonaws.com/"
		"Example-Object</Location>\n"
		"  <Bucket>Example-Bucket</Bucket>\n"
		"  <Key>Example-Object</Key>\n"
		"  <ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>\n"
		"</CompleteMultipartUploadResult>";
	/* radosgw: the ETag unquoted, or empty. */
	static const char rgw_empty_etag[] =
		DECL "<CompleteMultipartUploadResult " NS "><Location>"
		     "http://127.0.0.1:7480/backups/daily/x</Location><Bucket>"
		     "backups</Bucket><Key>daily/x</Key><ETag></ETag>"
		     "</CompleteMultipartUploadResult>";
	/* "200 OK", whitespace to keep the connection, then the failure. */
	static const char error_in_200[] =
		"\n \n \n" DECL
		"\n<Error><Code>InternalError</Code><Message>We "
		"encountered an internal error. Please try again.</Message>"
		"<RequestId>656c76696e6727732072657175657374</RequestId><HostId>"
		"Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg=="
		"</HostId></Error>";
	static const char no_etag[] =
		"<CompleteMultipartUploadResult><Key>k</Key>"
		"</CompleteMultipartUploadResult>";
	struct s3xml_error e;

	(void)state;
	assert_int_equal(s3xml_parse_complete_multipart(aws, LEN(aws), &e),
			 S3XML_OK);
	assert_string_equal(e.code, "");
	assert_int_equal(s3xml_parse_complete_multipart(
				 rgw_empty_etag, LEN(rgw_empty_etag), &e),
			 S3XML_OK);
	assert_int_equal(s3xml_parse_complete_multipart(
				 rgw_empty_etag, LEN(rgw_empty_etag), NULL),
			 S3XML_OK);

	assert_int_equal(s3xml_parse_complete_multipart(error_in_200,
							LEN(error_in_200), &e),
			 S3XML_EERRORDOC);
	assert_string_equal(e.code, "InternalError");
	assert_string_equal(
		e.message,
		"We encountered an internal error. Please try again.");
	assert_string_equal(e.request_id, "656c76696e6727732072657175657374");
	assert_true(s3xml_is_error_doc(error_in_200, LEN(error_in_200)));
	assert_int_equal(s3xml_parse_complete_multipart(
				 error_in_200, LEN(error_in_200), NULL),
			 S3XML_EERRORDOC);
	/* An Error without a Code is a failure all the same. */
	assert_int_equal(
		s3xml_parse_complete_multipart(
			STR("<Error><Message>m</Message></Error>"), &e),
		S3XML_EERRORDOC);

	assert_int_equal(
		s3xml_parse_complete_multipart(no_etag, LEN(no_etag), &e),
		S3XML_ESHAPE);
	/* The body was cut while S3 was still sending whitespace. */
	assert_int_equal(s3xml_parse_complete_multipart(STR("\n \n "), &e),
			 S3XML_EPARSE);
	assert_int_equal(s3xml_parse_complete_multipart(aws, 120, &e),
			 S3XML_EPARSE);
}

static const char aws_uploads[] = DECL
	"\n<ListMultipartUploadsResult " NS ">\n"
	"  <Bucket>bucket</Bucket>\n"
	"  <KeyMarker></KeyMarker>\n"
	"  <UploadIdMarker></UploadIdMarker>\n"
	"  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>\n"
	"  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ"
	"</NextUploadIdMarker>\n"
	"  <MaxUploads>2</MaxUploads>\n"
	"  <IsTruncated>true</IsTruncated>\n"
	"  <Upload>\n"
	"    <Key>my-divisor</Key>\n"
	"    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw"
	"</UploadId>\n"
	"    <Initiator>\n"
	"      <ID>arn:aws:iam::111122223333:user/user1</ID>\n"
	"      <DisplayName>user1</DisplayName>\n"
	"    </Initiator>\n"
	"    <Owner>\n"
	"      <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea5"
	"4ba06a</ID>\n"
	"      <DisplayName>OwnerDisplayName</DisplayName>\n"
	"    </Owner>\n"
	"    <StorageClass>STANDARD</StorageClass>\n"
	"    <Initiated>2010-11-10T20:48:33.000Z</Initiated>\n"
	"  </Upload>\n"
	"  <Upload>\n"
	"    <Key>my-movie.m2ts</Key>\n"
	"    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9h"
	"ZA</UploadId>\n"
	"    <StorageClass>STANDARD</StorageClass>\n"
	"    <Initiated>2010-11-10T20:48:34.000Z</Initiated>\n"
	"  </Upload>\n"
	"</ListMultipartUploadsResult>";

static void test_list_uploads(void **state)
{
	static const char rgw_empty[] = DECL
		"<ListMultipartUploadsResult " NS "><Bucket>backups</Bucket>"
		"<NextKeyMarker></NextKeyMarker><NextUploadIdMarker>"
		"</NextUploadIdMarker><MaxUploads>1000</MaxUploads>"
		"<IsTruncated>false</IsTruncated>"
		"</ListMultipartUploadsResult>";
	static const char no_initiated[] =
		"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
		"<Upload><Key>k</Key><UploadId>u</UploadId></Upload>"
		"</ListMultipartUploadsResult>";
	static const char url[] =
		"<ListMultipartUploadsResult><EncodingType>url</EncodingType>"
		"<IsTruncated>true</IsTruncated><NextKeyMarker>a%20b"
		"</NextKeyMarker><Upload><Key>a%20b</Key><UploadId>u</UploadId>"
		"<Initiated>2026-11-23T09:30:05.000Z</Initiated></Upload>"
		"</ListMultipartUploadsResult>";
	struct s3xml_list_uploads l;

	(void)state;
	assert_int_equal(s3xml_parse_list_multipart_uploads(
				 aws_uploads, LEN(aws_uploads), &l),
			 S3XML_OK);
	assert_true(l.is_truncated);
	assert_string_equal(l.next_key_marker, "my-movie.m2ts");
	assert_string_equal(l.next_upload_id_marker,
			    "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
	assert_int_equal(l.nuploads, 2);
	assert_string_equal(l.uploads[0].key, "my-divisor");
	assert_string_equal(
		l.uploads[0].upload_id,
		"XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw");
	assert_int_equal(l.uploads[0].initiated, 1289422113);
	assert_string_equal(l.uploads[1].key, "my-movie.m2ts");
	assert_int_equal(l.uploads[1].initiated, 1289422114);
	s3xml_list_uploads_dispose(&l);
	s3xml_list_uploads_dispose(&l);

	assert_int_equal(s3xml_parse_list_multipart_uploads(rgw_empty,
							    LEN(rgw_empty), &l),
			 S3XML_OK);
	assert_int_equal(l.nuploads, 0);
	assert_false(l.is_truncated);
	assert_string_equal(l.next_key_marker, "");
	s3xml_list_uploads_dispose(&l);

	assert_int_equal(s3xml_parse_list_multipart_uploads(url, LEN(url), &l),
			 S3XML_OK);
	assert_string_equal(l.uploads[0].key, "a b");
	assert_string_equal(l.next_key_marker, "a b");
	assert_null(l.next_upload_id_marker);
	s3xml_list_uploads_dispose(&l);

	assert_int_equal(s3xml_parse_list_multipart_uploads(
				 no_initiated, LEN(no_initiated), &l),
			 S3XML_ESHAPE);
	assert_null(l.uploads);
	assert_int_equal(
		s3xml_parse_list_multipart_uploads(aws_uploads, 300, &l),
		S3XML_EPARSE);
	assert_int_equal(
		s3xml_parse_list_multipart_uploads(aws_list, LEN(aws_list), &l),
		S3XML_ESHAPE);
}

static const char aws_parts[] = DECL
	"\n<ListPartsResult " NS ">\n"
	"  <Bucket>example-bucket</Bucket>\n"
	"  <Key>example-object</Key>\n"
	"  <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9h"
	"ZA</UploadId>\n"
	"  <StorageClass>STANDARD</StorageClass>\n"
	"  <PartNumberMarker>1</PartNumberMarker>\n"
	"  <NextPartNumberMarker>3</NextPartNumberMarker>\n"
	"  <MaxParts>2</MaxParts>\n"
	"  <IsTruncated>true</IsTruncated>\n"
	"  <Part>\n"
	"    <PartNumber>2</PartNumber>\n"
	"    <LastModified>2010-11-10T20:48:34.000Z</LastModified>\n"
	"    <ETag>\"7778aef83f66abc1fa1e8477f296d394\"</ETag>\n"
	"    <Size>10485760</Size>\n"
	"  </Part>\n"
	"  <Part>\n"
	"    <PartNumber>3</PartNumber>\n"
	"    <LastModified>2010-11-10T20:48:33.000Z</LastModified>\n"
	"    <ETag>\"aaaa18db4cc2f85cedef654fccc4a4x8\"</ETag>\n"
	"    <Size>10485760</Size>\n"
	"  </Part>\n"
	"</ListPartsResult>";

/* A ListPartsResult with one Part whose inside is PART. */
static int parts_with(const char *part)
{
	struct s3xml_list_parts l;
	char body[1024];
	int n, rc;

	n = snprintf(body, sizeof(body),
		     "<ListPartsResult><IsTruncated>false</IsTruncated><Part>%s"
		     "</Part></ListPartsResult>",
		     part);
	rc = s3xml_parse_list_parts(body, (size_t)n, &l);
	s3xml_list_parts_dispose(&l);
	return rc;
}

static void test_list_parts(void **state)
{
	static const char rgw_last[] =
		DECL "<ListPartsResult " NS "><Bucket>backups</Bucket><Key>k"
		     "</Key><UploadId>2~x</UploadId><Initiator><ID>u</ID>"
		     "<DisplayName>u</DisplayName></Initiator><Owner><ID>u</ID>"
		     "<DisplayName>u</DisplayName></Owner><StorageClass>"
		     "STANDARD</StorageClass><PartNumberMarker>0"
		     "</PartNumberMarker><NextPartNumberMarker>10000"
		     "</NextPartNumberMarker><MaxParts>1000</MaxParts>"
		     "<IsTruncated>false</IsTruncated><Part><LastModified>"
		     "2026-11-23T09:30:05.000Z</LastModified><PartNumber>10000"
		     "</PartNumber><ETag>&quot;0cc175b9c0f1b6a831c399e269772661"
		     "&quot;</ETag><Size>1</Size></Part></ListPartsResult>";
	struct s3xml_list_parts l;

	(void)state;
	assert_int_equal(s3xml_parse_list_parts(aws_parts, LEN(aws_parts), &l),
			 S3XML_OK);
	assert_true(l.is_truncated);
	assert_int_equal(l.next_part_number_marker, 3);
	assert_int_equal(l.nparts, 2);
	assert_int_equal(l.parts[0].number, 2);
	assert_string_equal(l.parts[0].etag,
			    "7778aef83f66abc1fa1e8477f296d394");
	assert_int_equal(l.parts[0].size, 10485760);
	assert_int_equal(l.parts[1].number, 3);
	s3xml_list_parts_dispose(&l);

	assert_int_equal(s3xml_parse_list_parts(rgw_last, LEN(rgw_last), &l),
			 S3XML_OK);
	assert_false(l.is_truncated);
	assert_int_equal(l.next_part_number_marker, 10000);
	assert_int_equal(l.parts[0].number, 10000);
	assert_string_equal(l.parts[0].etag,
			    "0cc175b9c0f1b6a831c399e269772661");
	s3xml_list_parts_dispose(&l);

#define PART(num, size)                                                        \
	"<PartNumber>" num "</PartNumber><ETag>e</ETag>"                       \
	"<Size>" size "</Size>"
	assert_int_equal(parts_with(PART("1", "5")), S3XML_OK);
	assert_int_equal(parts_with(PART("0", "5")), S3XML_ESHAPE);
	assert_int_equal(parts_with(PART("10001", "5")), S3XML_ESHAPE);
	assert_int_equal(parts_with(PART("-1", "5")), S3XML_ESHAPE);
	assert_int_equal(parts_with(PART("4294967297", "5")), S3XML_ESHAPE);
	assert_int_equal(parts_with(PART("1", "-5")), S3XML_ESHAPE);
	assert_int_equal(parts_with("<PartNumber>1</PartNumber><Size>5</Size>"),
			 S3XML_ESHAPE);
	assert_int_equal(parts_with("<PartNumber>1</PartNumber><ETag>e</ETag>"),
			 S3XML_ESHAPE);
	assert_int_equal(
		s3xml_parse_list_parts(
			STR("<ListPartsResult><IsTruncated>true"
			    "</IsTruncated><NextPartNumberMarker>10001"
			    "</NextPartNumberMarker></ListPartsResult>"),
			&l),
		S3XML_ESHAPE);
	assert_int_equal(s3xml_parse_list_parts(aws_error, LEN(aws_error), &l),
			 S3XML_EERRORDOC);
	assert_null(l.parts);
}

static void test_build_complete(void **state)
{
	struct s3_part parts[3] = {
		{.number = 1, .etag = W("7778aef83f66abc1fa1e8477f296d394")},
		{.number = 2, .etag = W("\"already-quoted\"")},
		{.number = 10000, .etag = W("a<b>&c'd\"e")},
	};
	struct s3_part bad;
	char *out = W("sentinel");

	(void)state;
	assert_int_equal(s3xml_build_complete_multipart(parts, 3, &out),
			 S3XML_OK);
	assert_string_equal(
		out, DECL
		"\n<CompleteMultipartUpload " NS "><Part><PartNumber>1"
		"</PartNumber><ETag>\"7778aef83f66abc1fa1e8477f296d394\""
		"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>"
		"\"already-quoted\"</ETag></Part><Part><PartNumber>10000"
		"</PartNumber><ETag>\"a&lt;b&gt;&amp;c'd\"e\"</ETag></Part>"
		"</CompleteMultipartUpload>\n");
	free(out);

	assert_int_equal(s3xml_build_complete_multipart(parts, 0, &out),
			 S3XML_EINVAL);
	assert_null(out);
	assert_int_equal(s3xml_build_complete_multipart(NULL, 1, &out),
			 S3XML_EINVAL);
	bad = parts[0];
	bad.number = 0;
	assert_int_equal(s3xml_build_complete_multipart(&bad, 1, &out),
			 S3XML_EINVAL);
	bad.number = 10001;
	assert_int_equal(s3xml_build_complete_multipart(&bad, 1, &out),
			 S3XML_EINVAL);
	bad.number = 1;
	bad.etag = W("");
	assert_int_equal(s3xml_build_complete_multipart(&bad, 1, &out),
			 S3XML_EINVAL);
	bad.etag = NULL;
	assert_int_equal(s3xml_build_complete_multipart(&bad, 1, &out),
			 S3XML_EINVAL);
	bad.etag = W("bad\x01");
	assert_int_equal(s3xml_build_complete_multipart(&bad, 1, &out),
			 S3XML_EINVAL);
	/* Out of order, or twice. */
	parts[1].number = 1;
	assert_int_equal(s3xml_build_complete_multipart(parts, 3, &out),
			 S3XML_EINVAL);
	assert_null(out);
}

/* ---- DeleteObjects ---- */

static void test_delete_result(void **state)
{
	static const char aws[] =
		DECL "\n<DeleteResult " NS ">\n"
		     "  <Deleted>\n    <Key>sample1.txt</Key>\n  </Deleted>\n"
		     "  <Error>\n    <Key>sample2.txt</Key>\n"
		     "    <Code>AccessDenied</Code>\n"
		     "    <Message>Access Denied</Message>\n  </Error>\n"
		     "</DeleteResult>";
	/* radosgw (some versions): the HTTP status in Code, the S3 code in
	 * Message, an empty VersionId. */
	static const char rgw[] =
		DECL "<DeleteResult " NS "><Error><Key>a &amp; b</Key>"
		     "<VersionId></VersionId><Code>403</Code><Message>"
		     "AccessDenied</Message></Error><Error><Key>c</Key><Code>"
		     "InternalError</Code></Error></DeleteResult>";
	static const char quiet_ok[] = DECL "<DeleteResult " NS "/>";
	static const char no_code[] =
		"<DeleteResult><Error><Key>k</Key></Error></DeleteResult>";
	struct s3xml_delete_result r;

	(void)state;
	assert_int_equal(s3xml_parse_delete_result(aws, LEN(aws), &r),
			 S3XML_OK);
	assert_int_equal(r.ndeleted, 1);
	assert_string_equal(r.deleted[0], "sample1.txt");
	assert_int_equal(r.nerrors, 1);
	assert_string_equal(r.errors[0].key, "sample2.txt");
	assert_string_equal(r.errors[0].code, "AccessDenied");
	assert_string_equal(r.errors[0].message, "Access Denied");
	s3xml_delete_result_dispose(&r);

	assert_int_equal(s3xml_parse_delete_result(rgw, LEN(rgw), &r),
			 S3XML_OK);
	assert_int_equal(r.ndeleted, 0);
	assert_int_equal(r.nerrors, 2);
	assert_string_equal(r.errors[0].key, "a & b");
	assert_string_equal(r.errors[0].code, "403");
	assert_string_equal(r.errors[0].message, "AccessDenied");
	assert_string_equal(r.errors[1].message, "");
	s3xml_delete_result_dispose(&r);
	s3xml_delete_result_dispose(&r);

	assert_int_equal(s3xml_parse_delete_result(quiet_ok, LEN(quiet_ok), &r),
			 S3XML_OK);
	assert_int_equal(r.ndeleted + r.nerrors, 0);
	s3xml_delete_result_dispose(&r);

	assert_int_equal(s3xml_parse_delete_result(no_code, LEN(no_code), &r),
			 S3XML_ESHAPE);
	assert_null(r.errors);
	assert_int_equal(
		s3xml_parse_delete_result(aws_error, LEN(aws_error), &r),
		S3XML_EERRORDOC);
}

/* The Key values of a <Delete> document we built, read back. */
static void read_back_keys(const char *doc, const char *const *want, size_t n)
{
	xmlDoc *d;
	xmlNode *root, *o;
	size_t i = 0;

	assert_int_equal(s3xml_read(&d, doc, strlen(doc)), S3XML_OK);
	assert_int_equal(s3xml_root(&root, d, "Delete"), S3XML_OK);
	for (o = root->children; o; o = o->next) {
		char *key;

		if (!s3xml_is(o, "Object"))
			continue;
		assert_true(i < n);
		assert_int_equal(s3xml_child_text(&key, o, "Key", true),
				 S3XML_OK);
		assert_string_equal(key, want[i]);
		free(key);
		i++;
	}
	assert_int_equal(i, n);
	xmlFreeDoc(d);
}

static void test_build_delete(void **state)
{
	static const char *const keys[] = {
		"daily/app/app-daily-20261123T093005Z.sql.gz",
		"a<b>&c",
		"quote\"'apos",
		"cr\r lf\n tab\t",
		"\xc3\xa9t\xc3\xa9 \xf0\x9f\x92\xbe +%20",
	};
	const char *bad[1];
	const char **many;
	char *out = W("sentinel"), long_key[1026];
	size_t i;

	(void)state;
	assert_int_equal(s3xml_build_delete(keys, 2, true, &out), S3XML_OK);
	assert_string_equal(out, DECL
			    "\n<Delete " NS "><Quiet>true</Quiet><Object><Key>"
			    "daily/app/app-daily-20261123T093005Z.sql.gz</Key>"
			    "</Object><Object><Key>a&lt;b&gt;&amp;c</Key>"
			    "</Object></Delete>\n");
	free(out);

	/* A CR must survive the XML reader's end-of-line handling. */
	assert_int_equal(s3xml_build_delete(keys, 5, false, &out), S3XML_OK);
	assert_null(strstr(out, "<Quiet>"));
	assert_non_null(strstr(out, "<Key>cr&#13; lf\n tab\t</Key>"));
	read_back_keys(out, (const char *const *)keys, 5);
	free(out);

	/* Refused: none, empty, NUL-less control characters, bad UTF-8,
	 * a surrogate, U+FFFE, too long. */
	assert_int_equal(s3xml_build_delete(keys, 0, true, &out), S3XML_EINVAL);
	assert_null(out);
	bad[0] = "";
	assert_int_equal(s3xml_build_delete(bad, 1, true, &out), S3XML_EINVAL);
	bad[0] = NULL;
	assert_int_equal(s3xml_build_delete(bad, 1, true, &out), S3XML_EINVAL);
	bad[0] = "a\x01"
		 "b";
	assert_int_equal(s3xml_build_delete(bad, 1, true, &out), S3XML_EINVAL);
	bad[0] = "a\xff";
	assert_int_equal(s3xml_build_delete(bad, 1, true, &out), S3XML_EINVAL);
	bad[0] = "a\xc3";
	assert_int_equal(s3xml_build_delete(bad, 1, true, &out), S3XML_EINVAL);
	bad[0] = "a\xc0\xaf"; /* an overlong '/' */
	assert_int_equal(s3xml_build_delete(bad, 1, true, &out), S3XML_EINVAL);
	bad[0] = "a\xed\xa0\x80";
	assert_int_equal(s3xml_build_delete(bad, 1, true, &out), S3XML_EINVAL);
	bad[0] = "a\xef\xbf\xbe";
	assert_int_equal(s3xml_build_delete(bad, 1, true, &out), S3XML_EINVAL);
	memset(long_key, 'k', 1025);
	long_key[1025] = '\0';
	bad[0] = long_key;
	assert_int_equal(s3xml_build_delete(bad, 1, true, &out), S3XML_EINVAL);
	long_key[1024] = '\0';
	assert_int_equal(s3xml_build_delete(bad, 1, true, &out), S3XML_OK);
	free(out);

	/* 1000 keys at most. */
	many = calloc(S3XML_DELETE_MAX + 1, sizeof(*many));
	assert_non_null(many);
	for (i = 0; i <= S3XML_DELETE_MAX; i++)
		many[i] = "k";
	assert_int_equal(s3xml_build_delete(many, S3XML_DELETE_MAX, true, &out),
			 S3XML_OK);
	free(out);
	assert_int_equal(
		s3xml_build_delete(many, S3XML_DELETE_MAX + 1, true, &out),
		S3XML_EINVAL);
	assert_null(out);
	free(many);
}

/* ---- lifecycle ---- */

/*
 * Someone else's rule (tags under And, transitions), one of ours, and a
 * whole-bucket rule as radosgw gives back an empty filter: a legacy
 * top-level Prefix.
 */
static const char lifecycle[] = DECL
	"\n<LifecycleConfiguration " NS ">\n"
	"  <Rule>\n"
	"    <ID>archive-logs</ID>\n"
	"    <Filter>\n"
	"      <And>\n"
	"        <Prefix>logs/</Prefix>\n"
	"        <Tag><Key>class</Key><Value>a &amp; b</Value></Tag>\n"
	"        <Tag><Key>keep</Key><Value>&lt;no&gt; \"x\"</Value></Tag>\n"
	"      </And>\n"
	"    </Filter>\n"
	"    <Status>Enabled</Status>\n"
	"    <Transition><Days>30</Days><StorageClass>STANDARD_IA"
	"</StorageClass></Transition>\n"
	"    <Transition><Days>365</Days><StorageClass>GLACIER"
	"</StorageClass></Transition>\n"
	"    <Expiration><Days>3650</Days></Expiration>\n"
	"  </Rule>\n"
	"  <Rule>\n"
	"    <ID>offsite-daily</ID>\n"
	"    <Filter><Prefix>daily/</Prefix></Filter>\n"
	"    <Status>Enabled</Status>\n"
	"    <Expiration><Days>30</Days></Expiration>\n"
	"  </Rule>\n"
	"  <Rule>\n"
	"    <ID>whole-bucket</ID><Prefix></Prefix><Status>Disabled</Status>"
	"<AbortIncompleteMultipartUpload><DaysAfterInitiation>7"
	"</DaysAfterInitiation></AbortIncompleteMultipartUpload>\n"
	"  </Rule>\n"
	"</LifecycleConfiguration>\n";

static void test_lifecycle_parse(void **state)
{
	struct s3_lifecycle lc;
	const struct s3_lifecycle_rule *r;

	(void)state;
	assert_int_equal(s3xml_parse_lifecycle(lifecycle, LEN(lifecycle), &lc),
			 S3XML_OK);
	assert_int_equal(lc.nrules, 3);

	r = &lc.rules[0];
	assert_string_equal(r->id, "archive-logs");
	assert_null(r->prefix); /* it filters on tags too */
	assert_true(r->enabled);
	assert_int_equal(r->expiration_days, 3650);
	assert_int_equal(r->abort_incomplete_days, 0);
	assert_string_equal(
		r->raw,
		"<Rule><ID>archive-logs</ID><Filter><And><Prefix>logs/</Prefix>"
		"<Tag><Key>class</Key><Value>a &amp; b</Value></Tag><Tag><Key>"
		"keep</Key><Value>&lt;no&gt; \"x\"</Value></Tag></And></Filter>"
		"<Status>Enabled</Status><Transition><Days>30</Days>"
		"<StorageClass>STANDARD_IA</StorageClass></Transition>"
		"<Transition><Days>365</Days><StorageClass>GLACIER"
		"</StorageClass></Transition><Expiration><Days>3650</Days>"
		"</Expiration></Rule>");

	r = &lc.rules[1];
	assert_string_equal(r->id, "offsite-daily");
	assert_string_equal(r->prefix, "daily/");
	assert_true(r->enabled);
	assert_int_equal(r->expiration_days, 30);
	assert_non_null(r->raw);

	r = &lc.rules[2];
	assert_string_equal(r->id, "whole-bucket");
	assert_string_equal(r->prefix, "");
	assert_false(r->enabled);
	assert_int_equal(r->expiration_days, 0);
	assert_int_equal(r->abort_incomplete_days, 7);
	s3_lifecycle_dispose(&lc);
	assert_null(lc.rules);
	assert_int_equal(lc.nrules, 0);
	s3_lifecycle_dispose(&lc);
	s3_lifecycle_dispose(NULL);
}

static int lifecycle_with(const char *rule)
{
	struct s3_lifecycle lc;
	char body[2048];
	int n, rc;

	n = snprintf(body, sizeof(body),
		     "<LifecycleConfiguration><Rule>%s</Rule>"
		     "</LifecycleConfiguration>",
		     rule);
	rc = s3xml_parse_lifecycle(body, (size_t)n, &lc);
	if (rc)
		assert_null(lc.rules);
	s3_lifecycle_dispose(&lc);
	return rc;
}

static void test_lifecycle_shapes(void **state)
{
	struct s3_lifecycle lc;

	(void)state;
	/* No ID; an empty Filter; ObjectSize filters; both prefix forms. */
	assert_int_equal(
		s3xml_parse_lifecycle(
			STR("<LifecycleConfiguration><Rule><Filter/>"
			    "<Status>Enabled</Status><Expiration><Days>1"
			    "</Days></Expiration></Rule><Rule><Filter>"
			    "<ObjectSizeGreaterThan>500</ObjectSizeGreater"
			    "Than></Filter><Status>Enabled</Status>"
			    "</Rule><Rule><Prefix>a/</Prefix><Filter>"
			    "<Prefix>b/</Prefix></Filter><Status>Enabled"
			    "</Status></Rule><Rule><Filter><Tag><Key>k"
			    "</Key><Value>v</Value></Tag></Filter><Status>"
			    "Enabled</Status></Rule>"
			    "</LifecycleConfiguration>"),
			&lc),
		S3XML_OK);
	assert_int_equal(lc.nrules, 4);
	assert_null(lc.rules[0].id);
	assert_string_equal(lc.rules[0].prefix, "");
	assert_string_equal(
		lc.rules[0].raw,
		"<Rule><Filter/><Status>Enabled</Status><Expiration>"
		"<Days>1</Days></Expiration></Rule>");
	assert_null(lc.rules[1].prefix);
	assert_null(lc.rules[2].prefix);
	assert_null(lc.rules[3].prefix);
	s3_lifecycle_dispose(&lc);

	assert_int_equal(lifecycle_with("<Status>Enabled</Status>"), S3XML_OK);
	assert_int_equal(lifecycle_with("<ID>x</ID>"), S3XML_ESHAPE);
	assert_int_equal(lifecycle_with("<Status>enabled</Status>"),
			 S3XML_ESHAPE);
	assert_int_equal(lifecycle_with("<Status>Enabled</Status><Expiration>"
					"<Days>thirty</Days></Expiration>"),
			 S3XML_ESHAPE);
	assert_int_equal(lifecycle_with("<Status>Enabled</Status><Expiration>"
					"<Days>4294967296</Days></Expiration>"),
			 S3XML_ESHAPE);
	assert_int_equal(lifecycle_with("<Status>Enabled</Status><Expiration>"
					"<Date>2027-01-01T00:00:00.000Z</Date>"
					"</Expiration>"),
			 S3XML_OK);
	assert_int_equal(lifecycle_with("<Status>Enabled</Status>"
					"<AbortIncompleteMultipartUpload>"
					"<DaysAfterInitiation>-1"
					"</DaysAfterInitiation>"
					"</AbortIncompleteMultipartUpload>"),
			 S3XML_ESHAPE);
	assert_int_equal(s3xml_parse_lifecycle(aws_error, LEN(aws_error), &lc),
			 S3XML_EERRORDOC);
	assert_int_equal(s3xml_parse_lifecycle(
				 STR("<LifecycleConfiguration " NS "/>"), &lc),
			 S3XML_OK);
	assert_int_equal(lc.nrules, 0);
	s3_lifecycle_dispose(&lc);
}

static void test_lifecycle_round_trip(void **state)
{
	struct s3_lifecycle got, again, put = {0};
	struct s3_lifecycle_rule *rules;
	char *body, *foreign_raw;
	size_t i;

	(void)state;
	assert_int_equal(s3xml_parse_lifecycle(lifecycle, LEN(lifecycle), &got),
			 S3XML_OK);
	foreign_raw = strdup(got.rules[0].raw);
	assert_non_null(foreign_raw);

	/* Everything we read, plus one rule of ours. */
	rules = calloc(got.nrules + 1, sizeof(*rules));
	assert_non_null(rules);
	memcpy(rules, got.rules, got.nrules * sizeof(*rules));
	rules[got.nrules] = (struct s3_lifecycle_rule){
		.id = W("offsite-weekly"),
		.prefix = W("weekly/<&>"),
		.enabled = true,
		.expiration_days = 90,
		.abort_incomplete_days = 2,
	};
	put.rules = rules;
	put.nrules = got.nrules + 1;
	assert_int_equal(s3xml_build_lifecycle(&put, &body), S3XML_OK);

	assert_int_equal(s3xml_parse_lifecycle(body, strlen(body), &again),
			 S3XML_OK);
	assert_int_equal(again.nrules, 4);
	/* Every rule we read goes back exactly as it came. */
	assert_string_equal(again.rules[0].raw, foreign_raw);
	for (i = 0; i < got.nrules; i++)
		assert_string_equal(again.rules[i].raw, got.rules[i].raw);
	assert_null(again.rules[0].prefix);
	assert_int_equal(again.rules[0].expiration_days, 3650);
	assert_string_equal(again.rules[2].prefix, "");
	assert_int_equal(again.rules[2].abort_incomplete_days, 7);
	/* Ours has its fields. */
	assert_string_equal(again.rules[3].id, "offsite-weekly");
	assert_string_equal(again.rules[3].prefix, "weekly/<&>");
	assert_true(again.rules[3].enabled);
	assert_int_equal(again.rules[3].expiration_days, 90);
	assert_int_equal(again.rules[3].abort_incomplete_days, 2);
	assert_string_equal(
		again.rules[3].raw,
		"<Rule><ID>offsite-weekly</ID><Filter><Prefix>weekly/&lt;&amp;"
		"&gt;</Prefix></Filter><Status>Enabled</Status><Expiration>"
		"<Days>90</Days></Expiration><AbortIncompleteMultipartUpload>"
		"<DaysAfterInitiation>2</DaysAfterInitiation>"
		"</AbortIncompleteMultipartUpload></Rule>");
	s3_lifecycle_dispose(&again);
	free(body);
	free(rules);
	free(foreign_raw);
	s3_lifecycle_dispose(&got);
}

static void test_build_lifecycle(void **state)
{
	struct s3_lifecycle_rule r = {
		.id = W("offsite-daily"),
		.prefix = W("daily/"),
		.enabled = true,
		.expiration_days = 30,
	};
	struct s3_lifecycle lc = {.rules = &r, .nrules = 1};
	char *out = W("sentinel"), id[300];

	(void)state;
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_OK);
	assert_string_equal(out, DECL "\n<LifecycleConfiguration " NS "><Rule>"
				      "<ID>offsite-daily</ID><Filter><Prefix>"
				      "daily/</Prefix></Filter><Status>Enabled"
				      "</Status><Expiration><Days>30</Days>"
				      "</Expiration></Rule>"
				      "</LifecycleConfiguration>\n");
	free(out);

	/* No ID, no prefix (the whole bucket), only the abort action. */
	r.id = NULL;
	r.prefix = NULL;
	r.enabled = false;
	r.expiration_days = 0;
	r.abort_incomplete_days = 1;
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_OK);
	assert_string_equal(out, DECL "\n<LifecycleConfiguration " NS "><Rule>"
				      "<Filter><Prefix></Prefix></Filter>"
				      "<Status>Disabled</Status>"
				      "<AbortIncompleteMultipartUpload>"
				      "<DaysAfterInitiation>1"
				      "</DaysAfterInitiation>"
				      "</AbortIncompleteMultipartUpload>"
				      "</Rule></LifecycleConfiguration>\n");
	free(out);

	/* A raw rule in the S3 namespace or none is taken as it is. */
	r.raw = W("<Rule " NS "><ID>x</ID><Status>Enabled</Status>"
		  "<Expiration><Days>1</Days></Expiration></Rule>");
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_OK);
	free(out);

	/* Refused: no action, an empty or long ID, a bad raw rule, none. */
	r.raw = NULL;
	r.abort_incomplete_days = 0;
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_EINVAL);
	assert_null(out);
	r.abort_incomplete_days = 1;
	r.id = W("");
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_EINVAL);
	memset(id, 'i', 256);
	id[256] = '\0';
	r.id = id;
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_EINVAL);
	id[255] = '\0';
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_OK);
	free(out);
	r.id = NULL;
	r.prefix = W("bad\x02");
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_EINVAL);
	r.prefix = NULL;
	r.raw = W("<Filter><Prefix>x</Prefix></Filter>");
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_EINVAL);
	r.raw = W("<Rule><ID>x</ID>");
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_EINVAL);
	r.raw = W("<Rule/><Rule/>");
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_EINVAL);
	r.raw = W("<Rule xmlns=\"urn:other\"/>");
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_EINVAL);
	r.raw = W("<!DOCTYPE Rule><Rule/>");
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_EINVAL);
	assert_null(out);
	lc.nrules = 0;
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_EINVAL);
	assert_int_equal(s3xml_build_lifecycle(NULL, &out), S3XML_EINVAL);
	lc.nrules = 1001;
	assert_int_equal(s3xml_build_lifecycle(&lc, &out), S3XML_EINVAL);
	assert_null(out);
}

/* ---- values ---- */

static void test_time(void **state)
{
	static const char *const bad[] = {
		"",
		"2026-11-23",
		"2026-11-23T09:30:05",
		"2026-11-23T09:30:05.Z",
		"2026-11-23T09:30:05.0000000000Z",
		"2026-11-23T09:30:05.000+01:00",
		"2026-11-23T09:30:05.000z",
		"2026-11-23 09:30:05Z",
		"2026-11-23T09:30:05ZZ",
		" 2026-11-23T09:30:05Z",
		"2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z",
		"2026-11-31T00:00:00Z",
		"2026-11-00T00:00:00Z",
		"2023-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z",
		"2026-11-23T24:00:00Z",
		"2026-11-23T09:60:00Z",
		"2026-11-23T09:30:61Z",
		"1969-12-31T23:59:59Z",
		"+2026-11-23T09:30:05Z",
		"2026-1-23T09:30:05Z",
		"Mon, 23 Nov 2026 09:30:05 GMT",
	};
	time_t t = 1;
	size_t i;

	(void)state;
	assert_int_equal(s3xml_parse_time("2026-11-23T09:30:05.000Z", &t),
			 S3XML_OK);
	assert_int_equal(t, 1795426205);
	assert_int_equal(s3xml_parse_time("2026-11-23T09:30:05Z", &t),
			 S3XML_OK);
	assert_int_equal(t, 1795426205);
	assert_int_equal(s3xml_parse_time("1970-01-01T00:00:00Z", &t),
			 S3XML_OK);
	assert_int_equal(t, 0);
	assert_int_equal(s3xml_parse_time("2024-02-29T12:00:00.123456789Z", &t),
			 S3XML_OK);
	assert_int_equal(t, 1709208000);
	assert_int_equal(s3xml_parse_time("2000-02-29T00:00:00Z", &t),
			 S3XML_OK);
	/* A leap second rolls over. */
	assert_int_equal(s3xml_parse_time("2026-11-22T23:59:60Z", &t),
			 S3XML_OK);
	assert_int_equal(t, 1795392000);
	if (sizeof(time_t) >= 8) {
		assert_int_equal(
			s3xml_parse_time("9999-12-31T23:59:59.999Z", &t),
			S3XML_OK);
		assert_true(t == (time_t)253402300799LL);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = 1;
		if (s3xml_parse_time(bad[i], &t) != S3XML_ESHAPE)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(t, 0);
	}
	assert_int_equal(s3xml_parse_time(NULL, &t), S3XML_ESHAPE);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(s3xml_strerror(S3XML_EPARSE),
			    "not well-formed XML");
	assert_string_equal(s3xml_strerror(S3XML_ESHAPE),
			    "not the XML document expected");
	assert_string_equal(s3xml_strerror(-1), "unknown XML error");
}

/* ---- the fuzz corpus ---- */

/* Parse BODY as the document FILE is named after; the parser's code. */
static int parse_as(const char *file, const char *body, size_t len)
{
	struct s3xml_error e;
	struct s3xml_list_objects lo;
	struct s3xml_list_uploads lu;
	struct s3xml_list_parts lp;
	struct s3xml_delete_result dr;
	struct s3_lifecycle lc;
	char *id;
	int rc;

	if (strcmp(file, "xml_error/aws_error.xml") == 0)
		return s3xml_parse_error(body, len, &e);
	if (strncmp(file, "xml_complete/", 13) == 0)
		return s3xml_parse_complete_multipart(body, len, &e);
	if (strcmp(file, "xml_initiate/initiate.xml") == 0) {
		rc = s3xml_parse_initiate_multipart(body, len, &id);
		free(id);
		return rc;
	}
	if (strcmp(file, "xml_list_objects/rgw_url_encoded.xml") == 0) {
		rc = s3xml_parse_list_objects_v2(body, len, &lo);
		s3xml_list_objects_dispose(&lo);
		return rc;
	}
	if (strcmp(file, "xml_list_uploads/uploads.xml") == 0) {
		rc = s3xml_parse_list_multipart_uploads(body, len, &lu);
		s3xml_list_uploads_dispose(&lu);
		return rc;
	}
	if (strcmp(file, "xml_list_parts/parts.xml") == 0) {
		rc = s3xml_parse_list_parts(body, len, &lp);
		s3xml_list_parts_dispose(&lp);
		return rc;
	}
	if (strcmp(file, "xml_delete_result/delete.xml") == 0) {
		rc = s3xml_parse_delete_result(body, len, &dr);
		s3xml_delete_result_dispose(&dr);
		return rc;
	}
	if (strcmp(file, "xml_lifecycle/lifecycle.xml") == 0) {
		rc = s3xml_parse_lifecycle(body, len, &lc);
		s3_lifecycle_dispose(&lc);
		return rc;
	}
	fail_msg("no parser for corpus file %s", file);
	return -1;
}

/* The main seed of each XML fuzz target is a good body of its document
 * (the other seeds include errors and malformed bodies on purpose). */
static void test_corpus(void **state)
{
	static const char *const files[] = {
		"xml_error/aws_error.xml",
		"xml_list_objects/rgw_url_encoded.xml",
		"xml_initiate/initiate.xml",
		"xml_complete/complete.xml",
		"xml_complete/error_in_200.xml",
		"xml_list_uploads/uploads.xml",
		"xml_list_parts/parts.xml",
		"xml_delete_result/delete.xml",
		"xml_lifecycle/lifecycle.xml",
	};
	const char *tests = getenv("TESTS");
	char path[4096], body[8192];
	size_t i, len;
	FILE *f;

	(void)state;
	/* $TESTS is the tests/ folder (tests/run sets it); else run from
	 * the top of the tree. */
	if (!tests || !*tests)
		tests = "tests";
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/fuzz/corpus/%s", tests,
			 files[i]);
		f = fopen(path, "rb");
		if (!f)
			fail_msg("cannot open %s", path);
		len = fread(body, 1, sizeof(body), f);
		fclose(f);
		assert_true(len > 0 && len < sizeof(body));
		assert_int_equal(parse_as(files[i], body, len),
				 strstr(files[i], "error_in_200")
					 ? S3XML_EERRORDOC
					 : S3XML_OK);
	}
}

static int teardown(void **state)
{
	(void)state;
	/* libxml2's global state, freed so that valgrind sees no leak. */
	xmlCleanupParser();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_error_cleaned),
		cmocka_unit_test(test_error_malformed),
		cmocka_unit_test(test_list_objects),
		cmocka_unit_test(test_list_objects_url),
		cmocka_unit_test(test_list_objects_empty),
		cmocka_unit_test(test_list_objects_malformed),
		cmocka_unit_test(test_no_dtd),
		cmocka_unit_test(test_utf8_only),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_quiet),
		cmocka_unit_test(test_hostile_bytes),
		cmocka_unit_test(test_initiate),
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_list_uploads),
		cmocka_unit_test(test_list_parts),
		cmocka_unit_test(test_build_complete),
		cmocka_unit_test(test_delete_result),
		cmocka_unit_test(test_build_delete),
		cmocka_unit_test(test_lifecycle_parse),
		cmocka_unit_test(test_lifecycle_shapes),
		cmocka_unit_test(test_lifecycle_round_trip),
		cmocka_unit_test(test_build_lifecycle),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_corpus),
	};

	xmlInitParser();
	return cmocka_run_group_tests(tests, NULL, teardown);
}
