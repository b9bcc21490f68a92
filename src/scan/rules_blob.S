/*
 * The compiled-in rules: src/scan/rules.ini, embedded at build time, and
 * its sha256 (RULES_SHA256, passed by the Makefile; part of the cache key).
 */
#ifndef RULES_SHA256
#error "build with -DRULES_SHA256=\"<sha256 of src/scan/rules.ini>\" (the Makefile does)"
#endif
	.section .rodata
	.global scan_rules_ini
	.global scan_rules_ini_end
	.global scan_rules_ini_sha256
	.balign 16
scan_rules_ini:
	.incbin "src/scan/rules.ini"
scan_rules_ini_end:
	.byte 0
scan_rules_ini_sha256:
	.asciz RULES_SHA256
	.section .note.GNU-stack,"",@progbits
