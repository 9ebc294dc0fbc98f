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
;;                                     v60 -> v1
;;                                     v33 -> v3
;;                                     v36 -> v4
;;                                     v77 -> v4
;;                                     v37 -> v5
;;                                     v78 -> v5
;;                                     v38 -> v6
;;                                     v79 -> v6
;;                                     v39 -> v7
;;                                     v80 -> v7
;;                                     v81 -> v8
;;                                     v82 -> v9
;;                                     v83 -> v10
;;                                     v84 -> v11
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     v20 -> v12
;;                                     v29 -> v12
;;                                     jump block1
;;
;;                                 block1:
;; @0000                               v21 = iconst.i64 2
;; @0000                               v22 = icmp.i64 uge v20, v21  ; v21 = 2
;; @0000                               brif v22, block5, block6
;;
;;                                 block6 cold:
;; @0000                               v23 = iconst.i64 3
;; @0000                               v24 = iconst.i64 0
;; @0000                               v25 = iconst.i64 0
;; @0000                               v26 = iconst.i64 0
;; @0000                               v27 = iconst.i64 0
;; @0000                               v28 = iconst.i64 0
;; @0000                               jump block4(v23, v25, v24, v26, v27, v28, v29)  ; v23 = 3, v25 = 0, v24 = 0, v26 = 0, v27 = 0, v28 = 0
;;
;;                                 block5:
;; @0000                               v30 = iconst.i64 -2
;; @0000                               v31 = iadd.i64 v20, v30  ; v30 = -2
;;                                     v47 -> v31
;;                                     v57 -> v31
;;                                     v114 -> v31
;;                                     v48 -> v114
;; @0000                               v32 = iconst.i64 3
;;                                     v76 -> v32
;; @0001                               v34 = iconst.i64 5
;; @0001                               v35 = iconst.i64 0
;; @0001                               v40 = call_indirect sig0, v35(v0, v34, v32, v36, v37, v38, v39)  ; v35 = 0, v34 = 5, v32 = 3
;;                                     v75 -> v40
;; @0001                               v41 = load.i64 notrap aligned v0+64
;; @0001                               brif v41, block7, block8
;;
;;                                 block7 cold:
;; @0001                               v42 = load.i64 notrap aligned v0+80
;; @0001                               v43 = iconst.i64 1
;; @0001                               v44 = iconst.i64 0
;; @0001                               v45 = iconst.i64 0
;; @0001                               v46 = iconst.i64 0
;; @0001                               jump block4(v41, v43, v42, v44, v45, v46, v47)  ; v43 = 1, v44 = 0, v45 = 0, v46 = 0
;;
;;                                 block8:
;; @0002                               jump block2
;;
;;                                 block2:
;; @0002                               v49 = iconst.i64 1
;; @0002                               v50 = icmp.i64 uge v48, v49  ; v49 = 1
;; @0002                               brif v50, block9, block10
;;
;;                                 block10 cold:
;; @0002                               v51 = iconst.i64 3
;; @0002                               v52 = iconst.i64 0
;; @0002                               v53 = iconst.i64 2
;; @0002                               v54 = iconst.i64 0
;; @0002                               v55 = iconst.i64 0
;; @0002                               v56 = iconst.i64 0
;; @0002                               jump block4(v51, v53, v52, v54, v55, v56, v57)  ; v51 = 3, v53 = 2, v52 = 0, v54 = 0, v55 = 0, v56 = 0
;;
;;                                 block9:
;; @0002                               v58 = iconst.i64 -1
;; @0002                               v59 = iadd.i64 v48, v58  ; v58 = -1
;;                                     v71 -> v59
;;                                     v72 -> v59
;; @0002                               v61 = load.i64 notrap aligned readonly can_move v0
;; @0002                               v62 = isub.i64 v60, v61
;; @0002                               v63 = iconst.i64 1024
;; @0002                               v64 = icmp uge v62, v63  ; v63 = 1024
;; @0002                               brif v64, block11, block12
;;
;;                                 block12 cold:
;; @0002                               v65 = iconst.i64 4
;; @0002                               v66 = iconst.i64 0
;; @0002                               v67 = iconst.i64 2
;; @0002                               v68 = iconst.i64 0
;; @0002                               v69 = iconst.i64 0
;; @0002                               v70 = iconst.i64 0
;; @0002                               jump block4(v65, v67, v66, v68, v69, v70, v71)  ; v65 = 4, v67 = 2, v66 = 0, v68 = 0, v69 = 0, v70 = 0
;;
;;                                 block11:
;; @0002                               store.i64 notrap aligned v72, v0+56
;; @0002                               v73 = iconst.i64 -512
;; @0002                               v74 = iadd.i64 v60, v73  ; v73 = -512
;; @0002                               v85, v86, v87, v88, v89, v90, v91 = call fn0(v0, v74, v75, v76, v77, v78, v79, v80, v81, v82, v83, v84)  ; v76 = 3
;;                                     v105 -> v85
;;                                     v106 -> v86
;;                                     v107 -> v87
;;                                     v108 -> v88
;;                                     v109 -> v89
;;                                     v110 -> v90
;; @0002                               brif v91, block13, block14
;;
;;                                 block13 cold:
;; @0002                               return v85, v86, v87, v88, v89, v90, v91
;;
;;                                 block14:
;; @0002                               v92 = load.i64 notrap aligned v0+56
;;                                     v93 -> v92
;;                                     v102 -> v92
;; @0003                               jump block3
;;
;;                                 block3:
;; @0003                               v94 = iconst.i64 1
;; @0003                               v95 = icmp.i64 uge v93, v94  ; v94 = 1
;; @0003                               brif v95, block15, block16
;;
;;                                 block16 cold:
;; @0003                               v96 = iconst.i64 3
;; @0003                               v97 = iconst.i64 0
;; @0003                               v98 = iconst.i64 3
;; @0003                               v99 = iconst.i64 0
;; @0003                               v100 = iconst.i64 0
;; @0003                               v101 = iconst.i64 0
;; @0003                               jump block4(v96, v98, v97, v99, v100, v101, v102)  ; v96 = 3, v98 = 3, v97 = 0, v99 = 0, v100 = 0, v101 = 0
;;
;;                                 block15:
;; @0003                               v103 = iconst.i64 -1
;; @0003                               v104 = iadd.i64 v93, v103  ; v103 = -1
;; @0003                               store notrap aligned v104, v0+56
;; @0003                               v111 = iconst.i64 0
;; @0003                               return v105, v106, v107, v108, v109, v110, v111  ; v111 = 0
;;
;;                                 block4(v13: i64, v14: i64, v15: i64, v16: i64, v17: i64, v18: i64, v19: i64) cold:
;;                                     store notrap aligned v13, v0+64
;;                                     store notrap aligned v14, v0+72
;;                                     store notrap aligned v15, v0+80
;;                                     store notrap aligned v16, v0+88
;;                                     store notrap aligned v17, v0+96
;;                                     store notrap aligned v18, v0+104
;;                                     store notrap aligned v19, v0+56
;;                                     v112 = iconst.i64 0
;;                                     v113 = iconst.i64 1
;;                                     return v112, v112, v112, v112, v112, v112, v113  ; v112 = 0, v112 = 0, v112 = 0, v112 = 0, v112 = 0, v112 = 0, v113 = 1
;; }
;; function u0:1(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v33 -> v2
;;                                     v32 -> v3
;;                                     v34 -> v4
;;                                     v35 -> v5
;;                                     v36 -> v6
;;                                     v37 -> v7
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     v20 -> v12
;;                                     v29 -> v12
;;                                     jump block1
;;
;;                                 block1:
;; @0004                               v21 = iconst.i64 2
;; @0004                               v22 = icmp.i64 uge v20, v21  ; v21 = 2
;; @0004                               brif v22, block3, block4
;;
;;                                 block4 cold:
;; @0004                               v23 = iconst.i64 3
;; @0004                               v24 = iconst.i64 0
;; @0004                               v25 = iconst.i64 4
;; @0004                               v26 = iconst.i64 0
;; @0004                               v27 = iconst.i64 0
;; @0004                               v28 = iconst.i64 0
;; @0004                               jump block2(v23, v25, v24, v26, v27, v28, v29)  ; v23 = 3, v25 = 4, v24 = 0, v26 = 0, v27 = 0, v28 = 0
;;
;;                                 block3:
;; @0004                               v30 = iconst.i64 -2
;; @0004                               v31 = iadd.i64 v20, v30  ; v30 = -2
;; @0005                               store notrap aligned v31, v0+56
;; @0005                               v38 = iconst.i64 0
;; @0005                               return v32, v32, v34, v35, v36, v37, v38  ; v38 = 0
;;
;;                                 block2(v13: i64, v14: i64, v15: i64, v16: i64, v17: i64, v18: i64, v19: i64) cold:
;;                                     store notrap aligned v13, v0+64
;;                                     store notrap aligned v14, v0+72
;;                                     store notrap aligned v15, v0+80
;;                                     store notrap aligned v16, v0+88
;;                                     store notrap aligned v17, v0+96
;;                                     store notrap aligned v18, v0+104
;;                                     store notrap aligned v19, v0+56
;;                                     v39 = iconst.i64 0
;;                                     v40 = iconst.i64 1
;;                                     return v39, v39, v39, v39, v39, v39, v40  ; v39 = 0, v39 = 0, v39 = 0, v39 = 0, v39 = 0, v39 = 0, v40 = 1
;; }
