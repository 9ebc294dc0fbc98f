/* A C host for cranebpf: loads the XDP program of an eBPF ELF object, runs
 * it over every packet of a pcap file, and prints the verdict counts and
 * one map, the same counts as
 *   cranebpf run examples/bpf/firewall.o --section xdp --pcap examples/pcap/mixed.pcap
 *
 * Build and run (see README):
 *   bash capi/install.sh /tmp/cranebpf
 *   gcc capi/examples/c/firewall.c $(PKG_CONFIG_PATH=/tmp/cranebpf/lib/pkgconfig pkg-config --cflags --libs cranebpf) -o firewall \
 *     && LD_LIBRARY_PATH=/tmp/cranebpf/lib ./firewall examples/bpf/firewall.o examples/pcap/mixed.pcap
 */
#include <cranebpf.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t*
read_file(const char* path, size_t* len)
{
    FILE* f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t* buf = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

static uint32_t
le32(const uint8_t* p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

int
main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s OBJECT.o CAPTURE.pcap\n", argv[0]);
        return 2;
    }
    size_t elf_len, pcap_len;
    uint8_t* elf = read_file(argv[1], &elf_len);
    uint8_t* pcap = read_file(argv[2], &pcap_len);
    if (!elf || !pcap || pcap_len < 24 || le32(pcap) != 0xa1b2c3d4) {
        fprintf(stderr, "cannot read the object, or the capture is not a little-endian pcap\n");
        return 2;
    }

    struct cranebpf_vm* vm = NULL;
    if (cranebpf_vm_new(CRANEBPF_ENGINE_JIT, &vm) != CRANEBPF_OK ||
        cranebpf_vm_load_elf(vm, elf, elf_len, "xdp") != CRANEBPF_OK) {
        fprintf(stderr, "load: %s\n", cranebpf_last_error());
        return 1;
    }
    cranebpf_vm_set_budget(vm, 100000000);

    static const char* names[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"};
    unsigned verdicts[5] = {0}, faults = 0, packets = 0;
    uint8_t frame[65536];
    for (size_t off = 24; off + 16 <= pcap_len;) {
        size_t caplen = le32(pcap + off + 8);
        off += 16;
        if (caplen > sizeof frame || off + caplen > pcap_len)
            break;
        memcpy(frame, pcap + off, caplen);
        off += caplen;
        packets++;
        size_t len = caplen;
        struct cranebpf_result r;
        enum cranebpf_status s = cranebpf_vm_run_xdp(vm, frame, &len, sizeof frame, &r);
        if (s == CRANEBPF_OK && r.r0 < 5)
            verdicts[r.r0]++;
        else
            faults++;
    }
    printf("%u packets\nverdicts:\n", packets);
    for (int i = 0; i < 5; i++)
        printf("  %-13s %u\n", names[i], verdicts[i]);
    printf("  %-13s %u\n", "faults", faults);

    /* The per-protocol counters: struct counter { __u64 packets, bytes; }. */
    struct cranebpf_map* stats = NULL;
    if (cranebpf_vm_map(vm, "proto_stats", &stats) == CRANEBPF_OK) {
        printf("proto_stats:\n");
        uint32_t key, next;
        const uint32_t* prev = NULL;
        while (cranebpf_map_next_key(stats, (const uint8_t*)prev, sizeof key, (uint8_t*)&next) == CRANEBPF_OK) {
            uint64_t value[2];
            if (cranebpf_map_lookup(stats, (const uint8_t*)&next, sizeof next, (uint8_t*)value, sizeof value) ==
                    CRANEBPF_OK &&
                value[0] != 0)
                printf("  [%u] = { packets = %" PRIu64 ", bytes = %" PRIu64 " }\n", next, value[0], value[1]);
            key = next;
            prev = &key;
        }
        cranebpf_map_free(stats);
    }
    struct cranebpf_stats st;
    cranebpf_vm_stats(vm, &st);
    printf("runs = %" PRIu64 ", instructions = %" PRIu64 "\n", st.runs, st.instructions);
    cranebpf_vm_free(vm);
    free(elf);
    free(pcap);
    return 0;
}
