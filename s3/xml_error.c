/*
 * The XML layer's codes as the client's errors: the one place where an
 * s3xml code becomes an s3_code and a message.
 */
#include "s3/s3_internal.h"
#include "s3/xml.h"

int s3_xml_error(s3_error *err, int xml_code, const char *what)
{
	int code = S3_EPROTO;
	const char *why;

	switch (xml_code) {
	case S3XML_OK:
		return S3_OK;
	case S3XML_ENOMEM:
		code = S3_ENOMEM;
		why = "out of memory";
		break;
	case S3XML_EINVAL:
		code = S3_EINVAL;
		why = "cannot build the request body: a value S3 cannot take";
		break;
	case S3XML_EERRORDOC:
		code = S3_EHTTP;
		why = "a 2xx answer carrying an S3 error";
		break;
	case S3XML_EPARSE:
		why = "the answer is not well-formed XML (or over 8 MiB)";
		break;
	default:
		why = "the answer is not the XML document expected";
		break;
	}
	s3_error_set(err, code, "%s: %s", what, why);
	return code;
}
