from django.urls import path

from quality import views, views_safety

urlpatterns = [
    path("reviews/", views.review_queue, name="review-queue"),
    path("reviews/mine/", views.my_reviews, name="my-reviews"),
    path("reviews/<int:pk>/", views.review_detail, name="review-detail"),
    path("reviews/<int:pk>/reply/", views.review_reply, name="review-reply"),
    path("visits/<int:pk>/review/", views.review_pick, name="review-pick"),
    path("cases/<int:pk>/safety/check-in/", views_safety.check_in, name="safety-check-in"),
    path("safety/<int:pk>/check-out/", views_safety.check_out, name="safety-check-out"),
    path("safety/help/", views_safety.help_button, name="safety-help"),
]
