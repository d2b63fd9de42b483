/*
 * fuzz: what every fuzz target defines, for libFuzzer and for the replay
 * driver (replay.c) alike.
 *
 * A target takes any bytes, must not crash, leak or read out of bounds,
 * and must give the same result for the same bytes: no clock, no random
 * numbers, no network, no state kept from one input to the next.
 * LLVMFuzzerInitialize is optional (weak): one-time set-up such as
 * libxml2's, or a fixed environment.
 */
#ifndef OFFSITE_TESTS_FUZZ_H
#define OFFSITE_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#endif
