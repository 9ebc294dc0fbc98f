ldxw %r0, [%r1+4]
stxdw [%r10-8], %r0
exit
;; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----
;; function u0:0(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;     sig0 = (i64, i64, i64, i64) -> i64 system_v
;;
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v70 -> v1
;;                                     v71 -> v1
;;                                     v32 -> v3
;;                                     v73 -> v3
;;                                     v74 -> v3
;;                                     v75 -> v4
;;                                     v76 -> v4
;;                                     v77 -> v5
;;                                     v78 -> v5
;;                                     v79 -> v6
;;                                     v80 -> v6
;;                                     v81 -> v7
;;                                     v82 -> v7
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     v20 -> v12
;;                                     v29 -> v12
;;                                     jump block1
;;
;;                                 block1:
;; @0000                               v21 = iconst.i64 3
;; @0000                               v22 = icmp.i64 uge v20, v21  ; v21 = 3
;; @0000                               brif v22, block3, block4
;;
;;                                 block4 cold:
;; @0000                               v23 = iconst.i64 3
;; @0000                               v24 = iconst.i64 0
;; @0000                               v25 = iconst.i64 0
;; @0000                               v26 = iconst.i64 0
;; @0000                               v27 = iconst.i64 0
;; @0000                               v28 = iconst.i64 0
;; @0000                               jump block2(v23, v25, v24, v26, v27, v28, v29)  ; v23 = 3, v25 = 0, v24 = 0, v26 = 0, v27 = 0, v28 = 0
;;
;;                                 block3:
;; @0000                               v30 = iconst.i64 -3
;; @0000                               v31 = iadd.i64 v20, v30  ; v30 = -3
;;                                     v56 -> v31
;;                                     v72 -> v31
;; @0000                               v33 = iconst.i64 4
;; @0000                               v34 = iadd.i64 v32, v33  ; v33 = 4
;; @0000                               v35 = load.i64 notrap aligned readonly can_move v0
;; @0000                               v36 = isub v34, v35
;; @0000                               v37 = iconst.i64 4092
;; @0000                               v38 = icmp ule v36, v37  ; v37 = 4092
;; @0000                               brif v38, block5(v1, v31, v32, v4, v5, v6, v7), block6
;;
;;                                 block6:
;; @0000                               v39 = load.i64 notrap aligned readonly can_move v0+16
;; @0000                               v40 = load.i64 notrap aligned v0+24
;; @0000                               v41 = isub.i64 v34, v39
;; @0000                               v42 = icmp ule v41, v40
;; @0000                               v43 = isub v40, v41
;; @0000                               v44 = iconst.i64 4
;; @0000                               v45 = icmp uge v43, v44  ; v44 = 4
;; @0000                               v46 = band v42, v45
;; @0000                               brif v46, block5(v70, v72, v73, v75, v77, v79, v81), block7
;;
;;                                 block7 cold:
;; @0000                               v47 = iconst.i64 0
;; @0000                               v48 = iconst.i64 4
;; @0000                               v49 = iconst.i64 0
;; @0000                               v50 = call_indirect sig0, v47(v0, v34, v48, v49)  ; v47 = 0, v48 = 4, v49 = 0
;; @0000                               v51 = iconst.i64 1
;; @0000                               v52 = iconst.i64 0
;; @0000                               v53 = iconst.i64 4
;; @0000                               v54 = iconst.i64 0
;; @0000                               v55 = iconst.i64 2
;; @0000                               brif v50, block5(v71, v56, v74, v76, v78, v80, v82), block2(v51, v52, v34, v53, v54, v55, v56)  ; v51 = 1, v52 = 0, v53 = 4, v54 = 0, v55 = 2
;;
;;                                 block5(v58: i64, v61: i64, v62: i64, v63: i64, v64: i64, v65: i64, v66: i64):
;; @0000                               v57 = uload32.i64 notrap little v34
;; @0001                               v59 = iconst.i64 -8
;; @0001                               v60 = iadd v58, v59  ; v59 = -8
;; @0001                               store notrap little v57, v60
;; @0002                               store notrap aligned v61, v0+56
;; @0002                               v67 = iconst.i64 0
;; @0002                               return v57, v62, v63, v64, v65, v66, v67  ; v67 = 0
;;
;;                                 block2(v13: i64, v14: i64, v15: i64, v16: i64, v17: i64, v18: i64, v19: i64) cold:
;;                                     store notrap aligned v13, v0+64
;;                                     store notrap aligned v14, v0+72
;;                                     store notrap aligned v15, v0+80
;;                                     store notrap aligned v16, v0+88
;;                                     store notrap aligned v17, v0+96
;;                                     store notrap aligned v18, v0+104
;;                                     store notrap aligned v19, v0+56
;;                                     v68 = iconst.i64 0
;;                                     v69 = iconst.i64 1
;;                                     return v68, v68, v68, v68, v68, v68, v69  ; v68 = 0, v68 = 0, v68 = 0, v68 = 0, v68 = 0, v68 = 0, v69 = 1
;; }
