ldxw %r0, [%r1+4]
stxdw [%r10-8], %r0
exit
;; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----
;; function u0:0(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;     sig0 = (i64, i64, i64, i64) preserve_all
;;     fn0 = colocated u2:0 sig0
;;
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v56 -> v1
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     v13 = load.i64 notrap aligned v0+24
;;                                     v14 = load.i64 notrap aligned v0+32
;;                                     jump block1
;;
;;                                 block1:
;; @0000                               v22 = iconst.i64 3
;; @0000                               v23 = icmp.i64 uge v12, v22  ; v22 = 3
;; @0000                               brif v23, block3, block4
;;
;;                                 block4 cold:
;; @0000                               v24 = iconst.i64 3
;; @0000                               v25 = iconst.i64 0
;; @0000                               v26 = iconst.i64 0
;; @0000                               v27 = iconst.i64 0
;; @0000                               v28 = iconst.i64 0
;; @0000                               v29 = iconst.i64 0
;; @0000                               jump block2(v24, v26, v25, v27, v28, v29, v12)  ; v24 = 3, v26 = 0, v25 = 0, v27 = 0, v28 = 0, v29 = 0
;;
;;                                 block3:
;; @0000                               v30 = iconst.i64 -3
;; @0000                               v31 = iadd.i64 v12, v30  ; v30 = -3
;;                                     v59 -> v31
;; @0000                               v32 = iconst.i64 4
;; @0000                               v33 = iadd.i64 v3, v32  ; v32 = 4
;; @0000                               v34 = load.i64 notrap aligned readonly can_move v0+16
;; @0000                               v35 = iconst.i64 4
;; @0000                               v36 = icmp.i64 uge v13, v35  ; v35 = 4
;; @0000                               v37 = iconst.i64 -3
;; @0000                               v38 = iadd.i64 v13, v37  ; v37 = -3
;; @0000                               v39 = iconst.i64 0
;; @0000                               v40 = select v36, v38, v39  ; v39 = 0
;; @0000                               v41 = isub v33, v34
;; @0000                               v42 = icmp ult v41, v40
;; @0000                               brif v42, block5, block7
;;
;;                                 block7 cold:
;; @0000                               v43 = load.i64 notrap aligned readonly can_move v0
;; @0000                               v44 = isub.i64 v33, v43
;; @0000                               v45 = iconst.i64 4092
;; @0000                               v46 = icmp ule v44, v45  ; v45 = 4092
;; @0000                               brif v46, block5, block6
;;
;;                                 block6 cold:
;; @0000                               v47 = iconst.i64 4
;; @0000                               v48 = iconst.i64 0
;; @0000                               v49 = iconst.i64 1
;; @0000                               v50 = iconst.i64 0
;; @0000                               v51 = iconst.i64 4
;; @0000                               v52 = iconst.i64 0
;; @0000                               v53 = iconst.i64 2
;; @0000                               call fn0(v0, v33, v47, v48)  ; v47 = 4, v48 = 0
;; @0000                               v54 = load.i64 notrap aligned v0+64
;; @0000                               brif v54, block2(v49, v50, v33, v51, v52, v53, v31), block5  ; v49 = 1, v50 = 0, v51 = 4, v52 = 0, v53 = 2
;;
;;                                 block5:
;; @0000                               v55 = uload32.i64 notrap little v33
;; @0001                               v57 = iconst.i64 -8
;; @0001                               v58 = iadd.i64 v1, v57  ; v57 = -8
;; @0001                               store notrap little v55, v58
;; @0002                               store.i64 notrap aligned v31, v0+56
;; @0002                               v60 = iconst.i64 0
;; @0002                               v61 = iconst.i64 0
;; @0002                               v62 = iconst.i64 0
;; @0002                               v63 = iconst.i64 0
;; @0002                               v64 = iconst.i64 0
;; @0002                               v65 = iconst.i64 0
;; @0002                               return v55, v60, v61, v62, v63, v64, v65  ; v60 = 0, v61 = 0, v62 = 0, v63 = 0, v64 = 0, v65 = 0
;;
;;                                 block2(v15: i64, v16: i64, v17: i64, v18: i64, v19: i64, v20: i64, v21: i64) cold:
;;                                     store notrap aligned v15, v0+64
;;                                     store notrap aligned v16, v0+72
;;                                     store notrap aligned v17, v0+80
;;                                     store notrap aligned v18, v0+88
;;                                     store notrap aligned v19, v0+96
;;                                     store notrap aligned v20, v0+104
;;                                     store notrap aligned v21, v0+56
;;                                     v66 = iconst.i64 0
;;                                     v67 = iconst.i64 1
;;                                     return v66, v66, v66, v66, v66, v66, v67  ; v66 = 0, v66 = 0, v66 = 0, v66 = 0, v66 = 0, v66 = 0, v67 = 1
;; }
