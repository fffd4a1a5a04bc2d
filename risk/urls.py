from django.urls import path

from risk import api, views

urlpatterns = [
    path("statements/import/", views.statement_imports, name="statement-imports"),
    path("statements/import/<int:pk>/progress/", views.statement_import_progress, name="statement-import-progress"),
    path("early-warning/", views.early_warning, name="early-warning"),
    path("early-warning/<int:account_id>/care/", views.care_open, name="care-open"),
    path("care/", views.care_list, name="care-list"),
    path("care/<int:pk>/", views.care_detail, name="care-detail"),
    path("risk/model/", views.model_card, name="risk-model-card"),
    path("strategies/", views.strategies, name="strategies"),
    path("strategies/<int:pk>/toggle/", views.strategy_toggle, name="strategy-toggle"),
    path("api/v1/risk/accounts/<int:pk>/", api.AccountRiskAPIView.as_view(), name="api-risk-account"),
]
