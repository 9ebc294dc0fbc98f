mov32 %r0, 7
div32 %r0, %r2
exit
;; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----
;; function u0:0(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v33 -> v2
;;                                     v47 -> v3
;;                                     v37 -> v4
;;                                     v48 -> v5
;;                                     v49 -> v6
;;                                     v50 -> v7
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
;; @0000                               v32 = iconst.i32 7
;; @0000                               v34 = ireduce.i32 v33
;; @0000                               v35 = uextend.i64 v32  ; v32 = 7
;; @0001                               v36 = ireduce.i32 v35
;; @0001                               v38 = ireduce.i32 v37
;; @0001                               v39 = iconst.i32 0
;; @0001                               v40 = iconst.i32 1
;; @0001                               v41 = iconst.i32 0
;; @0001                               v42 = icmp eq v38, v41  ; v41 = 0
;; @0001                               v43 = select v42, v40, v38  ; v40 = 1
;; @0001                               v44 = udiv v36, v43
;; @0001                               v45 = select v42, v39, v44  ; v39 = 0
;; @0001                               v46 = uextend.i64 v45
;; @0002                               store notrap aligned v31, v0+56
;; @0002                               v51 = iconst.i64 0
;; @0002                               return v46, v47, v37, v48, v49, v50, v51  ; v51 = 0
;;
;;                                 block2(v13: i64, v14: i64, v15: i64, v16: i64, v17: i64, v18: i64, v19: i64) cold:
;;                                     store notrap aligned v13, v0+64
;;                                     store notrap aligned v14, v0+72
;;                                     store notrap aligned v15, v0+80
;;                                     store notrap aligned v16, v0+88
;;                                     store notrap aligned v17, v0+96
;;                                     store notrap aligned v18, v0+104
;;                                     store notrap aligned v19, v0+56
;;                                     v52 = iconst.i64 0
;;                                     v53 = iconst.i64 1
;;                                     return v52, v52, v52, v52, v52, v52, v53  ; v52 = 0, v52 = 0, v52 = 0, v52 = 0, v52 = 0, v52 = 0, v53 = 1
;; }
