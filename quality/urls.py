from django.urls import path

from quality import views, views_playbooks, views_safety

urlpatterns = [
    path("reviews/", views.review_queue, name="review-queue"),
    path("reviews/mine/", views.my_reviews, name="my-reviews"),
    path("reviews/collectors/<int:pk>/", views.collector_quality, name="collector-quality"),
    path("reviews/<int:pk>/", views.review_detail, name="review-detail"),
    path("reviews/<int:pk>/reply/", views.review_reply, name="review-reply"),
    path("visits/<int:pk>/review/", views.review_pick, name="review-pick"),
    path("cases/<int:pk>/safety/check-in/", views_safety.check_in, name="safety-check-in"),
    path("safety/<int:pk>/check-out/", views_safety.check_out, name="safety-check-out"),
    path("safety/help/", views_safety.help_button, name="safety-help"),
    path("playbooks/", views_playbooks.playbook_list, name="playbook-list"),
    path("playbooks/new/", views_playbooks.playbook_edit, name="playbook-create"),
    path("playbooks/<int:pk>/", views_playbooks.playbook_edit, name="playbook-edit"),
    path("cases/<int:pk>/playbook/<int:playbook_id>/", views_playbooks.playbook_use, name="playbook-use"),
]
