# bench/net.gp: the figure of bench/results/net.md, drawn by bench/net.sh:
#
#   gnuplot -e "dir='bench/results'" bench/net.gp
#
# net.png from dir/net.dat (one row per round trip: the round trip in ms,
# then requests/s of naive_client 1 thread plain, under sockpool, -k;
# the same with 8 threads; python requests plain, under sockpool; curl in
# a shell loop, plain and under sockpool --share), in two panels: requests/s by round trip (both axes
# logarithmic), and each pooled client's requests/s divided by its plain
# one's.

set terminal pngcairo size 1100,480 font "sans,10"
set encoding utf8
set output dir.'/net.png'
set multiplot layout 1,2

set title "requests/s across a network path (median run)"
set logscale xy
set xlabel "round trip (ms)"
set ylabel "requests/s"
set xtics (0.2, 2, 20)
set grid
set key bottom left font ",9"
plot dir.'/net.dat' using 1:2 with linespoints lw 2 pt 6 lc rgb "#4878a8" title "naive, 1 thread", \
     '' using 1:3 with linespoints lw 2 pt 7 lc rgb "#4878a8" title "  under sockpool", \
     '' using 1:4 with linespoints lw 1 dt 2 pt 1 lc rgb "#4878a8" title "  keep-alive (-k)", \
     '' using 1:5 with linespoints lw 2 pt 6 lc rgb "#e08030" title "naive, 8 threads", \
     '' using 1:6 with linespoints lw 2 pt 7 lc rgb "#e08030" title "  under sockpool", \
     '' using 1:7 with linespoints lw 1 dt 2 pt 1 lc rgb "#e08030" title "  keep-alive (-k)", \
     '' using 1:8 with linespoints lw 2 pt 4 lc rgb "#50a050" title "python requests.get", \
     '' using 1:9 with linespoints lw 2 pt 5 lc rgb "#50a050" title "  under sockpool", \
     '' using 1:10 with linespoints lw 2 pt 2 lc rgb "#909090" title "curl in a shell loop", \
     '' using 1:11 with linespoints lw 2 pt 3 lc rgb "#909090" title "  under sockpool --share"

set title "gain: requests/s under sockpool ÷ plain"
unset logscale y
set ylabel "× plain"
set yrange [0:*]
set key bottom right
plot dir.'/net.dat' using 1:($3/$2) with linespoints lw 2 pt 7 lc rgb "#4878a8" title "naive, 1 thread", \
     '' using 1:($6/$5) with linespoints lw 2 pt 7 lc rgb "#e08030" title "naive, 8 threads", \
     '' using 1:($9/$8) with linespoints lw 2 pt 5 lc rgb "#50a050" title "python requests.get", \
     '' using 1:($11/$10) with linespoints lw 2 pt 3 lc rgb "#909090" title "curl loop, --share", \
     2 with lines dt 3 lc rgb "#000000" title "2× (two round trips become one)"
unset multiplot
