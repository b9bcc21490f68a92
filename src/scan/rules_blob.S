/* The compiled-in rules: src/scan/rules.ini, embedded at build time. */
	.section .rodata
	.global scan_rules_ini
	.global scan_rules_ini_end
	.balign 16
scan_rules_ini:
	.incbin "src/scan/rules.ini"
scan_rules_ini_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
