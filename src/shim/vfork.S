/*
 * vfork.S: the vfork() hook, which counts vfork children alive so that
 * the engine can tell when a hook runs in one (src/core/vfork_gate.h).
 *
 * Why assembly: the child runs on the parent's stack until it calls exec
 * or _exit, and returns from this very function before the parent does.
 * A C function would keep its return address (and anything else) in a
 * stack frame that the child's later calls overwrite, and the parent would
 * then return through garbage.  So, as glibc's own vfork does, nothing
 * lives on the stack across the system call: on x86_64 the return address
 * is popped into a register the kernel keeps (rdi) and pushed back after;
 * on aarch64 it stays in the link register.
 *
 * Before the system call (the stack is still ours alone) it calls
 * vfork_gate_enter(), which counts the child and marks the managed
 * sockets it will inherit.  The child returns 0 at once and touches
 * nothing.  The parent, once the child has exec'd or exited, tail-calls
 * vfork_gate_leave(result), which counts the child gone, sets errno on a
 * failure and returns what vfork returns.
 *
 * No GNU property note is given (CET shadow stack, BTI): a process that
 * preloads this library runs without them, which this return path needs
 * (glibc's vfork has extra code for the shadow stack).  On other
 * architectures there is no hook: vfork is glibc's, and a vfork child's
 * calls are not told from the parent's (README: what sockpool cannot reach).
 */
#if defined(__x86_64__)

	.text
	.globl	vfork
	.type	vfork, @function
	.hidden	vfork_gate_enter
	.hidden	vfork_gate_leave
vfork:
	.cfi_startproc
	subq	$8, %rsp		/* the call below needs a 16-byte aligned stack */
	.cfi_adjust_cfa_offset 8
	call	vfork_gate_enter
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%rdi			/* the return address, kept by the kernel */
	.cfi_adjust_cfa_offset -8
	.cfi_register %rip, %rdi
	movl	$58, %eax		/* __NR_vfork */
	syscall
	pushq	%rdi
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rip, 0
	testq	%rax, %rax
	jz	1f			/* the child: return 0, touch nothing */
	movq	%rax, %rdi
	jmp	vfork_gate_leave	/* the parent: returns the pid or -1 */
1:	ret
	.cfi_endproc
	.size	vfork, .-vfork

#elif defined(__aarch64__)

	.text
	.globl	vfork
	.type	vfork, %function
	.hidden	vfork_gate_enter
	.hidden	vfork_gate_leave
	.p2align 2
vfork:
	.cfi_startproc
	hint	#34			/* bti c (a no-op without BTI) */
	stp	x29, x30, [sp, #-16]!
	.cfi_def_cfa_offset 16
	.cfi_offset x29, -16
	.cfi_offset x30, -8
	mov	x29, sp
	bl	vfork_gate_enter
	ldp	x29, x30, [sp], #16
	.cfi_def_cfa_offset 0
	.cfi_restore x29
	.cfi_restore x30
	mov	x0, #0x4111		/* CLONE_VM | CLONE_VFORK | SIGCHLD */
	mov	x1, sp
	mov	x2, xzr
	mov	x3, xzr
	mov	x4, xzr
	mov	x8, #220		/* __NR_clone */
	svc	#0
	cbz	x0, 1f			/* the child: return 0, touch nothing */
	b	vfork_gate_leave	/* the parent: returns the pid or -1 */
1:	ret
	.cfi_endproc
	.size	vfork, .-vfork

#endif

	.section .note.GNU-stack, "", %progbits
