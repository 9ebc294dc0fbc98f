#include "common.h"
/* A 64-way switch over every input byte (value & 63); each case mixes the
 * accumulator differently. */
ENTRY u64 bench_switch(u8 *p, u64 len) {
    u64 acc = 1;
    for (u64 i = 0; i < len; i++) {
        switch (p[i] & 63) {
        case 0: acc = acc * 1 + 0; break;
        case 1: acc = (acc ^ 23757) + (acc >> 2); break;
        case 2: acc = acc + (acc << 3) - 5; break;
        case 3: acc = (acc - 217) ^ (acc >> 5); break;
        case 4: acc = acc * 9 + 4; break;
        case 5: acc = (acc ^ 87109) + (acc >> 6); break;
        case 6: acc = acc + (acc << 7) - 13; break;
        case 7: acc = (acc - 465) ^ (acc >> 2); break;
        case 8: acc = acc * 17 + 8; break;
        case 9: acc = (acc ^ 150461) + (acc >> 10); break;
        case 10: acc = acc + (acc << 11) - 21; break;
        case 11: acc = (acc - 713) ^ (acc >> 6); break;
        case 12: acc = acc * 25 + 12; break;
        case 13: acc = (acc ^ 213813) + (acc >> 1); break;
        case 14: acc = acc + (acc << 4) - 29; break;
        case 15: acc = (acc - 961) ^ (acc >> 3); break;
        case 16: acc = acc * 33 + 16; break;
        case 17: acc = (acc ^ 277165) + (acc >> 5); break;
        case 18: acc = acc + (acc << 8) - 37; break;
        case 19: acc = (acc - 1209) ^ (acc >> 7); break;
        case 20: acc = acc * 41 + 20; break;
        case 21: acc = (acc ^ 340517) + (acc >> 9); break;
        case 22: acc = acc + (acc << 1) - 45; break;
        case 23: acc = (acc - 1457) ^ (acc >> 4); break;
        case 24: acc = acc * 49 + 24; break;
        case 25: acc = (acc ^ 403869) + (acc >> 13); break;
        case 26: acc = acc + (acc << 5) - 53; break;
        case 27: acc = (acc - 1705) ^ (acc >> 8); break;
        case 28: acc = acc * 57 + 28; break;
        case 29: acc = (acc ^ 467221) + (acc >> 4); break;
        case 30: acc = acc + (acc << 9) - 61; break;
        case 31: acc = (acc - 1953) ^ (acc >> 5); break;
        case 32: acc = acc * 65 + 32; break;
        case 33: acc = (acc ^ 530573) + (acc >> 8); break;
        case 34: acc = acc + (acc << 2) - 69; break;
        case 35: acc = (acc - 2201) ^ (acc >> 2); break;
        case 36: acc = acc * 73 + 36; break;
        case 37: acc = (acc ^ 593925) + (acc >> 12); break;
        case 38: acc = acc + (acc << 6) - 77; break;
        case 39: acc = (acc - 2449) ^ (acc >> 6); break;
        case 40: acc = acc * 81 + 40; break;
        case 41: acc = (acc ^ 657277) + (acc >> 3); break;
        case 42: acc = acc + (acc << 10) - 85; break;
        case 43: acc = (acc - 2697) ^ (acc >> 3); break;
        case 44: acc = acc * 89 + 44; break;
        case 45: acc = (acc ^ 720629) + (acc >> 7); break;
        case 46: acc = acc + (acc << 3) - 93; break;
        case 47: acc = (acc - 2945) ^ (acc >> 7); break;
        case 48: acc = acc * 97 + 48; break;
        case 49: acc = (acc ^ 783981) + (acc >> 11); break;
        case 50: acc = acc + (acc << 7) - 101; break;
        case 51: acc = (acc - 3193) ^ (acc >> 4); break;
        case 52: acc = acc * 105 + 52; break;
        case 53: acc = (acc ^ 847333) + (acc >> 2); break;
        case 54: acc = acc + (acc << 11) - 109; break;
        case 55: acc = (acc - 3441) ^ (acc >> 8); break;
        case 56: acc = acc * 113 + 56; break;
        case 57: acc = (acc ^ 910685) + (acc >> 6); break;
        case 58: acc = acc + (acc << 4) - 117; break;
        case 59: acc = (acc - 3689) ^ (acc >> 5); break;
        case 60: acc = acc * 121 + 60; break;
        case 61: acc = (acc ^ 974037) + (acc >> 10); break;
        case 62: acc = acc + (acc << 8) - 125; break;
        case 63: acc = (acc - 3937) ^ (acc >> 2); break;
        }
    }
    return acc;
}
