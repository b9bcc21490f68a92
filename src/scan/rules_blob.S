/*
 * The compiled-in rules: src/scan/rules.ini, embedded at build time, its
 * lean copy without comments and examples (RULES_LEAN, made by the
 * Makefile; what start-up parses), and its sha256 (RULES_SHA256; part of
 * the cache key).
 */
#ifndef RULES_SHA256
#error "build with -DRULES_SHA256=\"<sha256 of src/scan/rules.ini>\" (the Makefile does)"
#endif
#ifndef RULES_LEAN
#error "build with -DRULES_LEAN=\"<rules.ini without comments and examples>\" (the Makefile does)"
#endif
	.section .rodata
	.global scan_rules_ini
	.global scan_rules_ini_end
	.global scan_rules_ini_sha256
	.global scan_rules_lean
	.global scan_rules_lean_end
	.balign 16
scan_rules_ini:
	.incbin "src/scan/rules.ini"
scan_rules_ini_end:
	.byte 0
scan_rules_lean:
	.incbin RULES_LEAN
scan_rules_lean_end:
	.byte 0
scan_rules_ini_sha256:
	.asciz RULES_SHA256
	.section .note.GNU-stack,"",@progbits
