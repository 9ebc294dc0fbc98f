# RFC 1071 Internet checksum of the input bytes.
# Entry (conformance convention): r1 = pointer to the input, r2 = its length.
# Result: r0 = the 16-bit one's-complement checksum.
#
#   cranebpf run examples/checksum.s --engine both \
#     --mem "45 00 00 73 00 00 40 00 40 11 00 00 c0 a8 00 01 c0 a8 00 c7"
#   prints r0 = 0xb861: the checksum field of that IPv4 header.
    mov %r6, %r1            # cursor
    mov %r7, %r2            # bytes left
    mov %r0, 0              # accumulator
words:
    jlt %r7, 2, tail
    ldxh %r3, [%r6+0]
    be16 %r3                # the sum is over big-endian 16-bit words
    add %r0, %r3
    add %r6, 2
    sub %r7, 2
    ja words
tail:
    jeq %r7, 0, fold
    ldxb %r3, [%r6+0]       # an odd last byte is the high half of a word
    lsh %r3, 8
    add %r0, %r3
fold:
    mov %r1, %r0
    call local fold16
    xor %r0, 0xffff
    exit

# fold16: r0 = r1 folded to 16 bits with end-around carry.
fold16:
    mov %r0, %r1
again:
    mov %r2, %r0
    rsh %r2, 16
    jeq %r2, 0, done
    and %r0, 0xffff
    add %r0, %r2
    ja again
done:
    exit
