mov %r1, 3
call 5
call local f
exit
f:
mov %r0, %r1
exit
;; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----
;; function u0:0(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;     sig0 = (i64, i64, i64, i64, i64, i64, i64) -> i64 system_v
;;     sig1 = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail
;;     fn0 = colocated u0:1 sig1
;;
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     v13 = load.i64 notrap aligned v0+24
;;                                     v14 = load.i64 notrap aligned v0+32
;;                                     jump block1
;;
;;                                 block1:
;; @0000                               v22 = iconst.i64 2
;; @0000                               v23 = icmp.i64 uge v12, v22  ; v22 = 2
;; @0000                               brif v23, block5, block6
;;
;;                                 block6 cold:
;; @0000                               v24 = iconst.i64 3
;; @0000                               v25 = iconst.i64 0
;; @0000                               v26 = iconst.i64 0
;; @0000                               v27 = iconst.i64 0
;; @0000                               v28 = iconst.i64 0
;; @0000                               v29 = iconst.i64 0
;; @0000                               jump block4(v24, v26, v25, v27, v28, v29, v12)  ; v24 = 3, v26 = 0, v25 = 0, v27 = 0, v28 = 0, v29 = 0
;;
;;                                 block5:
;; @0000                               v30 = iconst.i64 -2
;; @0000                               v31 = iadd.i64 v12, v30  ; v30 = -2
;; @0000                               v32 = iconst.i64 3
;; @0001                               v33 = iconst.i64 5
;; @0001                               v34 = iconst.i64 0
;; @0001                               v35 = call_indirect sig0, v34(v0, v33, v32, v4, v5, v6, v7)  ; v34 = 0, v33 = 5, v32 = 3
;; @0001                               v36 = load.i64 notrap aligned v0+64
;; @0001                               brif v36, block7, block8
;;
;;                                 block7 cold:
;; @0001                               v37 = load.i64 notrap aligned v0+80
;; @0001                               v38 = iconst.i64 1
;; @0001                               v39 = iconst.i64 0
;; @0001                               v40 = iconst.i64 0
;; @0001                               v41 = iconst.i64 0
;; @0001                               jump block4(v36, v38, v37, v39, v40, v41, v31)  ; v38 = 1, v39 = 0, v40 = 0, v41 = 0
;;
;;                                 block8:
;; @0001                               v42 = load.i64 notrap aligned v0+24
;; @0001                               v43 = load.i64 notrap aligned v0+32
;; @0002                               jump block2
;;
;;                                 block2:
;; @0002                               v44 = iconst.i64 1
;; @0002                               v45 = icmp.i64 uge v31, v44  ; v44 = 1
;; @0002                               brif v45, block9, block10
;;
;;                                 block10 cold:
;; @0002                               v46 = iconst.i64 3
;; @0002                               v47 = iconst.i64 0
;; @0002                               v48 = iconst.i64 2
;; @0002                               v49 = iconst.i64 0
;; @0002                               v50 = iconst.i64 0
;; @0002                               v51 = iconst.i64 0
;; @0002                               jump block4(v46, v48, v47, v49, v50, v51, v31)  ; v46 = 3, v48 = 2, v47 = 0, v49 = 0, v50 = 0, v51 = 0
;;
;;                                 block9:
;; @0002                               v52 = iconst.i64 -1
;; @0002                               v53 = iadd.i64 v31, v52  ; v52 = -1
;; @0002                               v54 = load.i64 notrap aligned readonly can_move v0
;; @0002                               v55 = isub.i64 v1, v54
;; @0002                               v56 = iconst.i64 1024
;; @0002                               v57 = icmp uge v55, v56  ; v56 = 1024
;; @0002                               brif v57, block11, block12
;;
;;                                 block12 cold:
;; @0002                               v58 = iconst.i64 4
;; @0002                               v59 = iconst.i64 0
;; @0002                               v60 = iconst.i64 2
;; @0002                               v61 = iconst.i64 0
;; @0002                               v62 = iconst.i64 0
;; @0002                               v63 = iconst.i64 0
;; @0002                               jump block4(v58, v60, v59, v61, v62, v63, v53)  ; v58 = 4, v60 = 2, v59 = 0, v61 = 0, v62 = 0, v63 = 0
;;
;;                                 block11:
;; @0002                               store.i64 notrap aligned v53, v0+56
;; @0002                               v64 = iconst.i64 -512
;; @0002                               v65 = iadd.i64 v1, v64  ; v64 = -512
;; @0002                               v66, v67, v68, v69, v70, v71, v72 = call fn0(v0, v65, v35, v32, v4, v5, v6, v7, v8, v9, v10, v11)  ; v32 = 3
;; @0002                               brif v72, block13, block14
;;
;;                                 block13 cold:
;; @0002                               return v66, v67, v68, v69, v70, v71, v72
;;
;;                                 block14:
;; @0002                               v73 = load.i64 notrap aligned v0+56
;; @0002                               v74 = load.i64 notrap aligned v0+24
;; @0002                               v75 = load.i64 notrap aligned v0+32
;; @0003                               jump block3
;;
;;                                 block3:
;; @0003                               v76 = iconst.i64 1
;; @0003                               v77 = icmp.i64 uge v73, v76  ; v76 = 1
;; @0003                               brif v77, block15, block16
;;
;;                                 block16 cold:
;; @0003                               v78 = iconst.i64 3
;; @0003                               v79 = iconst.i64 0
;; @0003                               v80 = iconst.i64 3
;; @0003                               v81 = iconst.i64 0
;; @0003                               v82 = iconst.i64 0
;; @0003                               v83 = iconst.i64 0
;; @0003                               jump block4(v78, v80, v79, v81, v82, v83, v73)  ; v78 = 3, v80 = 3, v79 = 0, v81 = 0, v82 = 0, v83 = 0
;;
;;                                 block15:
;; @0003                               v84 = iconst.i64 -1
;; @0003                               v85 = iadd.i64 v73, v84  ; v84 = -1
;; @0003                               store notrap aligned v85, v0+56
;; @0003                               v86 = iconst.i64 0
;; @0003                               v87 = iconst.i64 0
;; @0003                               v88 = iconst.i64 0
;; @0003                               v89 = iconst.i64 0
;; @0003                               v90 = iconst.i64 0
;; @0003                               v91 = iconst.i64 0
;; @0003                               return v66, v86, v87, v88, v89, v90, v91  ; v86 = 0, v87 = 0, v88 = 0, v89 = 0, v90 = 0, v91 = 0
;;
;;                                 block4(v15: i64, v16: i64, v17: i64, v18: i64, v19: i64, v20: i64, v21: i64) cold:
;;                                     store notrap aligned v15, v0+64
;;                                     store notrap aligned v16, v0+72
;;                                     store notrap aligned v17, v0+80
;;                                     store notrap aligned v18, v0+88
;;                                     store notrap aligned v19, v0+96
;;                                     store notrap aligned v20, v0+104
;;                                     store notrap aligned v21, v0+56
;;                                     v92 = iconst.i64 0
;;                                     v93 = iconst.i64 1
;;                                     return v92, v92, v92, v92, v92, v92, v93  ; v92 = 0, v92 = 0, v92 = 0, v92 = 0, v92 = 0, v92 = 0, v93 = 1
;; }
;; function u0:1(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     v13 = load.i64 notrap aligned v0+24
;;                                     v14 = load.i64 notrap aligned v0+32
;;                                     jump block1
;;
;;                                 block1:
;; @0004                               v22 = iconst.i64 2
;; @0004                               v23 = icmp.i64 uge v12, v22  ; v22 = 2
;; @0004                               brif v23, block3, block4
;;
;;                                 block4 cold:
;; @0004                               v24 = iconst.i64 3
;; @0004                               v25 = iconst.i64 0
;; @0004                               v26 = iconst.i64 4
;; @0004                               v27 = iconst.i64 0
;; @0004                               v28 = iconst.i64 0
;; @0004                               v29 = iconst.i64 0
;; @0004                               jump block2(v24, v26, v25, v27, v28, v29, v12)  ; v24 = 3, v26 = 4, v25 = 0, v27 = 0, v28 = 0, v29 = 0
;;
;;                                 block3:
;; @0004                               v30 = iconst.i64 -2
;; @0004                               v31 = iadd.i64 v12, v30  ; v30 = -2
;; @0005                               store notrap aligned v31, v0+56
;; @0005                               v32 = iconst.i64 0
;; @0005                               return v3, v3, v4, v5, v6, v7, v32  ; v32 = 0
;;
;;                                 block2(v15: i64, v16: i64, v17: i64, v18: i64, v19: i64, v20: i64, v21: i64) cold:
;;                                     store notrap aligned v15, v0+64
;;                                     store notrap aligned v16, v0+72
;;                                     store notrap aligned v17, v0+80
;;                                     store notrap aligned v18, v0+88
;;                                     store notrap aligned v19, v0+96
;;                                     store notrap aligned v20, v0+104
;;                                     store notrap aligned v21, v0+56
;;                                     v33 = iconst.i64 0
;;                                     v34 = iconst.i64 1
;;                                     return v33, v33, v33, v33, v33, v33, v34  ; v33 = 0, v33 = 0, v33 = 0, v33 = 0, v33 = 0, v33 = 0, v34 = 1
;; }
