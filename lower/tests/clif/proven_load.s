# The input load at instruction 0 is proven (a verifier's fact): a bare
# `uload32 notrap`, no compare and no call of the check adapter. The same
# program without the proof is checked_load.s.
# proven: 0
ldxw %r0, [%r1+4]
stxdw [%r10-8], %r0
exit
;; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----
;; function u0:0(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     jump block1
;;
;;                                 block1:
;; @0000                               v13 = iconst.i64 3
;; @0000                               v14 = icmp.i64 uge v12, v13  ; v13 = 3
;; @0000                               v15 = iconst.i64 3
;; @0000                               v16 = iconst.i64 0
;; @0000                               v17 = iconst.i64 0
;; @0000                               v18 = iconst.i64 0
;; @0000                               v19 = iconst.i64 0
;; @0000                               v20 = iconst.i64 0
;; @0000                               brif v14, block3, block4(v15, v17, v16, v18, v19, v20, v12)  ; v15 = 3, v17 = 0, v16 = 0, v18 = 0, v19 = 0, v20 = 0
;;
;;                                 block3:
;; @0000                               v28 = iconst.i64 -3
;; @0000                               v29 = iadd.i64 v12, v28  ; v28 = -3
;; @0000                               v30 = iconst.i64 4
;; @0000                               v31 = iadd.i64 v3, v30  ; v30 = 4
;; @0000                               v32 = uload32 notrap little v31
;; @0001                               v33 = iconst.i64 -8
;; @0001                               v34 = iadd.i64 v1, v33  ; v33 = -8
;; @0001                               store notrap little v32, v34
;; @0002                               store notrap aligned v29, v0+56
;; @0002                               v35 = iconst.i64 0
;; @0002                               v36 = iconst.i64 0
;; @0002                               v37 = iconst.i64 0
;; @0002                               v38 = iconst.i64 0
;; @0002                               v39 = iconst.i64 0
;; @0002                               v40 = iconst.i64 0
;; @0002                               return v32, v35, v36, v37, v38, v39, v40  ; v35 = 0, v36 = 0, v37 = 0, v38 = 0, v39 = 0, v40 = 0
;;
;;                                 block4(v21: i64, v22: i64, v23: i64, v24: i64, v25: i64, v26: i64, v27: i64) cold:
;;                                     store notrap aligned v21, v0+64
;;                                     store notrap aligned v22, v0+72
;;                                     store notrap aligned v23, v0+80
;;                                     store notrap aligned v24, v0+88
;;                                     store notrap aligned v25, v0+96
;;                                     store notrap aligned v26, v0+104
;;                                     store notrap aligned v27, v0+56
;;                                     jump block2
;;
;;                                 block2 cold:
;;                                     v41 = iconst.i64 0
;;                                     v42 = iconst.i64 1
;;                                     return v41, v41, v41, v41, v41, v41, v42  ; v41 = 0, v41 = 0, v41 = 0, v41 = 0, v41 = 0, v41 = 0, v42 = 1
;; }
